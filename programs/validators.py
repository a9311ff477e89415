from django.core.validators import URLValidator

# Media links are shown to members as links and embeds: only web URLs, never
# javascript: or data: schemes.
validate_media_url = URLValidator(schemes=["http", "https"])


def validate_video_embed_url(value: str) -> None:
    """Only the canonical embed address of a YouTube (no-cookie) or Vimeo video: see media.video_embed_normalise."""
    from django.core.exceptions import ValidationError

    from .media import video_embed_normalise

    if video_embed_normalise(value) != value:
        raise ValidationError("Save the video link as its embed address (the form does this for you).")
