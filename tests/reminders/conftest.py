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
