from django.core.validators import URLValidator

# Media links are shown to members as links and embeds: only web URLs, never
# javascript: or data: schemes.
validate_media_url = URLValidator(schemes=["http", "https"])
