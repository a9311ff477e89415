"""Member-supplied text is shown escaped everywhere: member pages, the admin, emails."""

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.urls import NoReverseMatch, reverse

from programs import services
from programs.models import ProgramSession
from programs.reminders.kinds import outbox_dispatch, outbox_send_batch
from programs.reminders.services import reminder_schedule_refresh
from tests.conftest import AxesAwareClient
from tests.factories import UserFactory, build_program

pytestmark = pytest.mark.django_db

NAME = "<script>alert(1)</script>"
NAME_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
NOTE = '<img src=x onerror="alert(2)"> felt <b>good</b>'
NOTE_ESCAPED = "&lt;img src=x onerror=&quot;alert(2)&quot;&gt; felt &lt;b&gt;good&lt;/b&gt;"
RAW = [NAME, "<img src=x", "<b>good</b>"]
NOW = dt.datetime(2026, 3, 4, 6, 0, tzinfo=dt.UTC)


def assert_escaped(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"unescaped member text in {where}"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=True) as clock:
        yield clock


@pytest.fixture
def mallory(db):
    return UserFactory(username="mallory", email="mallory@example.com", display_name=NAME, timezone="UTC")


@pytest.fixture
def enrolment(mallory):
    program = build_program(weeks=1, days=(1, 2, 3), title="Morning mobility")
    return services.enrolment_create(member=mallory, program=program, start_date=dt.date(2026, 3, 2))


@pytest.fixture
def member_client(mallory, enrolment):
    client = AxesAwareClient()
    client.force_login(mallory)
    day_1 = ProgramSession.objects.get(program=enrolment.program, day=1)
    url = reverse("programs:session_tick", args=[enrolment.pk, day_1.pk])
    # Through the page's own form, as the member would type it.
    assert client.post(url, {"pain_before": "5", "pain_after": "3", "note": NOTE}).status_code == 302
    return client


def test_it_escapes_member_text_on_member_pages(member_client, enrolment):
    day_1, day_3 = (ProgramSession.objects.get(program=enrolment.program, day=day) for day in (1, 3))
    pages = {
        "dashboard": reverse("programs:dashboard"),
        "progress": reverse("programs:enrolment", args=[enrolment.pk]),
        "done session": reverse("programs:session", args=[enrolment.pk, day_1.pk]),
        "open session": reverse("programs:session", args=[enrolment.pk, day_3.pk]),
        "program": reverse("programs:detail", args=[enrolment.program.slug]),
        "settings": reverse("accounts:settings"),
    }
    html = {}
    for where, url in pages.items():
        response = member_client.get(url)
        assert response.status_code == 200, where
        html[where] = response.content.decode()
        assert_escaped(html[where], where)

    assert NAME_ESCAPED in html["dashboard"]
    assert NAME_ESCAPED in html["settings"]
    assert NOTE_ESCAPED in html["done session"]


def test_it_escapes_member_text_on_the_tick_fragment(member_client, enrolment):
    day_2 = ProgramSession.objects.get(program=enrolment.program, day=2)
    url = reverse("programs:session_tick", args=[enrolment.pk, day_2.pk])

    response = member_client.post(url, {"note": NOTE}, headers={"X-Fragment": "1"})

    assert response.status_code == 200
    assert_escaped(response.content.decode(), "tick fragment")
    assert NOTE_ESCAPED in response.content.decode()


def _admin_urls():
    """Every changelist, and the change page of every object, of every registered model."""
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        try:
            yield reverse(f"{prefix}_changelist")
        except NoReverseMatch:
            continue
        for pk in model._default_manager.values_list("pk", flat=True)[:20]:
            yield reverse(f"{prefix}_change", args=[pk])


def test_it_escapes_member_text_everywhere_in_the_admin(member_client, enrolment, admin_client):
    seen = {}
    for url in _admin_urls():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        seen[url] = response.content.decode()
        assert_escaped(seen[url], url)

    user_admin = reverse("admin:accounts_user_change", args=[enrolment.member.pk])
    assert NAME_ESCAPED in seen[user_admin]
    assert NAME_ESCAPED in seen[reverse("admin:accounts_user_changelist")]
    assert any(NAME_ESCAPED in html for url, html in seen.items() if "enrolment" in url)


def test_it_escapes_member_text_for_the_trainer_of_the_program(member_client, enrolment):
    client = AxesAwareClient()
    client.force_login(enrolment.program.author)

    pages = [url for url in _admin_urls() if "enrolment" in url]
    assert pages
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302, 403), url
        assert_escaped(response.content.decode(), url)


def _html_part(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def test_it_escapes_the_display_name_in_account_emails(client, mallory, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from accounts.emails import send_verification_email

    send_verification_email(user=mallory)
    client.post(reverse("accounts:password_reset"), {"email": mallory.email})

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        html = _html_part(message)
        assert_escaped(html, message.subject)
        assert NAME_ESCAPED in html
        assert NAME in message.body  # the text part is plain text, not HTML


def test_it_escapes_the_display_name_in_reminder_emails(enrolment, settings, frozen_clock):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminder_schedule_refresh(enrolments=[enrolment], now=NOW)
    frozen_clock.move_to(dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC))
    batches = []
    outbox_dispatch(enqueue=lambda ids, token: batches.append((ids, token)))
    for ids, token in batches:
        outbox_send_batch(ids=ids, token=token)

    (message,) = mail.outbox
    html = _html_part(message)
    assert_escaped(html, "reminder email")
    assert NAME_ESCAPED in html
