"""A page costs the same queries in German as in English: translated fields are columns of the rows
already read (django-modeltranslation), never a query of their own."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs import services
from programs.models import Program
from tests.conftest import AxesAwareClient
from tests.factories import UserFactory


@pytest.fixture
def member_client(db, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 12, 11, 0, tzinfo=dt.UTC), tick=False)
    call_command("seed_demo", "--no-logins", stdout=StringIO())
    program = Program.objects.get(slug="lower-back-relief")
    member = UserFactory(timezone="Europe/Berlin")
    enrolment = services.enrolment_create(member=member, program=program, start_date=dt.date(2026, 3, 2))
    first = program.sessions.order_by("week", "day").first()
    services.completion_record(enrolment=enrolment, program_session=first, pain_before=5, pain_after=3)
    client = AxesAwareClient()
    client.force_login(member)
    client.urls = [
        reverse("home"),
        reverse("programs:catalogue"),
        program.get_absolute_url(),
        reverse("programs:dashboard"),
        reverse("programs:enrolment", kwargs={"pk": enrolment.pk}),
        reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": first.pk}),
        "/api/v1/programs/",
        f"/api/v1/programs/{program.slug}/",
        "/api/v1/stretches/",
        f"/api/v1/enrolments/{enrolment.pk}/progress/",
    ]
    return client


def _queries(client, url: str, language: str) -> list[str]:
    client.get(url, {"lang": language})  # warm: sessions, caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"lang": language}).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_german_pages_and_endpoints_cost_the_queries_english_ones_do(member_client):
    for url in member_client.urls:
        english, german = _queries(member_client, url, "en"), _queries(member_client, url, "de")
        assert len(german) == len(english), url
