"""Account emails: one function per message, each with a subject, a text and an HTML template.

Password reset mail is sent by Django's PasswordResetForm with our templates
(see views.PasswordResetView); links in both use settings.SITE_URL.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import User
from .tokens import email_verification_token

log = logging.getLogger(__name__)


def _send(*, to: str, template: str, context: dict) -> bool:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(f"{template}.txt", context), to=[to])
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
        to=user.email,
        template="accounts/email/verify_email",
        context={"user": user, "verify_url": verification_url(user)},
    )
