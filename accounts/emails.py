"""Account emails: one function per message, each with a subject, a text and an HTML template.

Password reset mail is sent by Django's PasswordResetForm with our templates
(see views.PasswordResetView); links in both use settings.SITE_URL.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from stretchhub.i18n import user_language

from .models import User
from .tokens import email_verification_token

log = logging.getLogger(__name__)


def _send(*, user: User, template: str, context: dict) -> bool:
    """Render and send in the recipient's language, not the language of the request that caused it."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(user_language(user)):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}.txt", context)
        message = EmailMultiAlternatives(subject=subject, body=body, to=[user.email])
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    try:
        message.send()
    except Exception:
        # The account exists either way; the member can ask for the mail again.
        log.exception("Could not send %s to user", template)
        return False
    return True


def verification_url(user: User) -> str:
    return settings.SITE_URL + reverse("accounts:verify", kwargs={"token": email_verification_token(user)})


def send_verification_email(*, user: User) -> bool:
    return _send(
        user=user,
        template="accounts/email/verify_email",
        context={"user": user, "verify_url": verification_url(user)},
    )
