"""Signed, expiring links for email verification (django.core.signing, no table needed)."""

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from .models import User

_SALT = "accounts.verify-email"


class VerificationError(Exception):
    """The link cannot verify anything; the message is user-facing."""


def _address_digest(email: str) -> str:
    # Signed payloads are readable (base64), and links end up in access logs:
    # carry a keyed digest of the address, not the address itself.
    return salted_hmac(_SALT, email.casefold()).hexdigest()[:24]


def email_verification_token(user: User) -> str:
    # The address is bound into the token: a link sent to an old address cannot verify a new one.
    return signing.dumps({"u": user.pk, "e": _address_digest(user.email)}, salt=_SALT)


def user_from_verification_token(token: str) -> User:
    try:
        payload = signing.loads(token, salt=_SALT, max_age=settings.ACCOUNT_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise VerificationError(
            gettext("This confirmation link has expired. Log in and we will send you a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise VerificationError(
            gettext("This confirmation link is not valid. Check that you copied all of it, or ask for a new one.")
        ) from exc
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not constant_time_compare(_address_digest(user.email), payload.get("e", "")):
        raise VerificationError(gettext("This confirmation link is no longer valid for any account."))
    return user
