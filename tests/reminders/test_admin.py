import datetime as dt

import pytest
from django.urls import reverse

from programs.reminders.models import OutboxMessage
from tests.factories import UserFactory

from .conftest import make_enrolments

UTC = dt.UTC


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True, password=None))
    return client


@pytest.fixture
def deliveries(db):
    enrolments = make_enrolments(12)
    statuses = list(OutboxMessage.Status)
    return [
        OutboxMessage.objects.create(
            recipient=enrolment.member,
            enrolment=enrolment,
            local_date=dt.date(2026, 3, 4),
            due_at=dt.datetime(2026, 3, 4, 7, 0, tzinfo=UTC),
            status=statuses[n % len(statuses)],
            attempts=1,
            last_error="451 4.3.0 Try again later" if n % len(statuses) == 2 else "",
        )
        for n, enrolment in enumerate(enrolments)
    ]


def test_it_lists_deliveries_in_a_fixed_number_of_queries(admin_client, deliveries, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:reminders_outboxmessage_changelist"))
    assert response.status_code == 200
    assert response.content.count(b'class="field-status"') == 12


def test_it_filters_by_status_and_date(admin_client, deliveries):
    url = reverse("admin:reminders_outboxmessage_changelist")
    response = admin_client.get(url, {"status__exact": "retrying"})
    assert response.content.count(b'class="field-status"') == 2
    assert b"451 4.3.0" in response.content
    response = admin_client.get(url, {"local_date__gte": "2026-03-05"})
    assert response.content.count(b'class="field-status"') == 0


def test_it_is_read_only(admin_client, deliveries):
    assert admin_client.get(reverse("admin:reminders_outboxmessage_add")).status_code == 403
    change = reverse("admin:reminders_outboxmessage_change", args=[deliveries[0].pk])
    page = admin_client.get(change)
    assert page.status_code == 200 and b'type="submit"' not in page.content.split(b"<form")[-1]
    assert admin_client.post(change, {"status": "sent"}).status_code == 403
    delete = reverse("admin:reminders_outboxmessage_delete", args=[deliveries[0].pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.count() == 12


def test_it_is_hidden_from_members(client, deliveries):
    client.force_login(deliveries[0].enrolment.member)
    response = client.get(reverse("admin:reminders_outboxmessage_changelist"))
    assert response.status_code == 302


def test_it_filters_by_kind_and_shows_messages_that_belong_to_no_enrolment(admin_client, deliveries):
    member = deliveries[0].recipient
    for kind in (OutboxMessage.Kind.WEEKLY_SUMMARY, OutboxMessage.Kind.TRAINER_DIGEST):
        OutboxMessage.objects.create(
            kind=kind,
            recipient=member,
            local_date=dt.date(2026, 3, 2),
            due_at=dt.datetime(2026, 3, 8, 17, 0, tzinfo=UTC),
            status=OutboxMessage.Status.SENT,
        )
    url = reverse("admin:reminders_outboxmessage_changelist")
    response = admin_client.get(url, {"kind__exact": "weekly_summary"})
    assert response.status_code == 200
    assert response.content.count(b'class="field-status"') == 1
    assert b"Weekly summary" in response.content
    assert admin_client.get(url).content.count(b'class="field-status"') == 14
