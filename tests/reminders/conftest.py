import datetime as dt

import pytest

from programs.models import Enrolment
from tests.factories import EnrolmentFactory, UserFactory, build_program

from .smtp_sink import start_sink

EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server in-process; Django's SMTP backend points at it."""
    sink, controller = start_sink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.release.set()
    controller.stop()


def make_enrolments(
    count: int,
    *,
    program=None,
    timezones=("Europe/Berlin",),
    start_date=dt.date(2026, 3, 2),
    reminder_time=dt.time(8, 0),
    nudge_emails=True,
    **kwargs,
) -> list[Enrolment]:
    program = program or build_program(weeks=2, days=EVERY_DAY)
    return [
        EnrolmentFactory(
            program=program,
            # No password: hashing one per member would dominate these tests.
            member=UserFactory(timezone=timezones[n % len(timezones)], nudge_emails=nudge_emails, password=None),
            start_date=start_date,
            reminder_time=reminder_time,
            **kwargs,
        )
        for n in range(count)
    ]


@pytest.fixture
def vapid_key(settings):
    """A VAPID key of this test's own; pushes may go to 127.0.0.1."""
    from stretchhub import vapid

    settings.VAPID_PRIVATE_KEY = vapid.new_private_key()
    settings.WEB_PUSH_ALLOW_PRIVATE = True
    return settings.VAPID_PRIVATE_KEY


@pytest.fixture
def push_service(vapid_key):
    """A real push service on 127.0.0.1 that checks the signature and decrypts each push (push_service.py)."""
    from stretchhub import vapid

    from .push_service import start_push_service

    service = start_push_service(public_key=vapid.public_key(vapid_key))
    yield service
    service.stop()


def subscribe(member, device) -> "PushSubscription":  # noqa: F821
    """Switch push on for `member` on `device`, as the settings page does."""
    from accounts.services import push_subscription_save

    subscription, _ = push_subscription_save(
        user=member,
        endpoint=device.endpoint,
        p256dh=device.subscription["keys"]["p256dh"],
        auth=device.subscription["keys"]["auth"],
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    )
    return subscription
