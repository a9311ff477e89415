"""The schema's `webhooks` section describes every event type, and what is sent matches it."""

import datetime as dt

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from programs import services as programs_services
from webhooks import services
from webhooks.models import EventType, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _validate(schema, event_type: str, payload: dict) -> None:
    body = schema["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]["schema"]
    jsonschema.validate({**body, "components": schema["components"]}, jsonschema.Draft202012Validator.META_SCHEMA)
    jsonschema.Draft202012Validator({**body, "components": schema["components"]}).validate(payload)


def test_it_is_an_openapi_3_1_schema_with_one_webhook_per_event_type(schema):
    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == set(EventType.values)


def test_every_event_sent_matches_its_schema(schema, partner, partner_member, program, now):
    endpoint = WebhookEndpoint.objects.create(partner=partner, url="http://127.0.0.1:9/", secret=services.new_secret())
    services.event_record(type="member.created", obj=partner_member, member=partner_member)
    enrolment = programs_services.enrolment_create(
        member=partner_member, program=program, start_date=dt.date(2026, 3, 2)
    )
    monday = program.sessions.get(week=1, day=1)
    programs_services.completion_record(enrolment=enrolment, program_session=monday, pain_before=3, note="ok")
    programs_services.completion_undo(enrolment=enrolment, program_session=monday)
    programs_services.enrolment_pause(enrolment=enrolment)
    programs_services.enrolment_resume(enrolment=enrolment)
    programs_services.enrolment_finish(enrolment=enrolment)
    again = programs_services.enrolment_restart(enrolment=enrolment, start_date=dt.date(2026, 3, 9))
    programs_services.enrolment_leave(enrolment=again)
    services.event_record(type="member.updated", obj=partner_member, member=partner_member)
    services.endpoint_test(endpoint=endpoint)

    events = list(WebhookEvent.objects.order_by("pk"))
    assert {e.type for e in events} == set(EventType.values)
    for event in events:
        _validate(schema, event.type, event.payload)
