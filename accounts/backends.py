from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User
from .selectors import user_for_login


class EmailOrUsernameBackend(ModelBackend):
    """Django's model backend, but the "username" a member types may also be their email address."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = user_for_login(username)
        if user is None:
            # Hash anyway so a missing account takes as long as a wrong password (as ModelBackend does).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """The key django-axes counts failures under.

    Case-folded so "Alice@Example.com" and "alice@example.com" share one counter.
    Email and username stay separate keys on purpose: mapping one to the other would
    need a lookup, and the lockout page would then reveal which username owns an email.
    """
    value = (credentials or {}).get(User.USERNAME_FIELD)
    if value is None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get(User.USERNAME_FIELD, "")
    return str(value).strip().casefold()[:255]
