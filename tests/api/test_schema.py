"""The OpenAPI schema is valid and truthful: schemathesis drives every operation from it and checks the answers.

Schemathesis generates valid and invalid requests for each operation (its
examples, coverage and fuzzing phases), sends them to the Django WSGI app in
process, and runs all its default checks: no server error, documented status
codes, content types and headers, responses matching their schemas, valid data
accepted, invalid data rejected, authentication enforced, deleted objects gone.

Generated ids rarely exist, so the test points most generated ids at real
objects of the caller (members' ids for member operations, partner A's member
for partner operations) to get past the 404 and exercise the operation itself.
"""

import datetime as dt
import os
import re
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from accounts.models import PartnerAPIKey
from programs.models import Program
from stretchhub.wsgi import application
from tests.api.conftest import token_for
from tests.factories import (
    CompletionFactory,
    EnrolmentFactory,
    ProgramFactory,
    ProgramSessionFactory,
    UserFactory,
    build_program,
)
from webhooks import services as webhook_services

RATES = {"anon": None, "member": None, "partner": None, "token": None}

# A login endpoint answers well-formed but unknown credentials with a 400. Schemathesis
# only knows that of OAuth `tokenUrl`s, so for this one operation 400 is an accepted answer.
#
# A webhook URL must resolve to a public address, which a schema cannot say: a well-formed
# URL is refused with a 400 when its host does not resolve (as generated hosts never do).
#
# OpenAPI cannot say "no other query parameters or headers", so extra ones the generator
# invents are not invalid requests; the API ignores them (as HTTP APIs do), hence no extras.
#
# A fixed seed keeps CI repeatable; SCHEMATHESIS_SEED=<n> explores other inputs.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "seed": int(os.environ.get("SCHEMATHESIS_SEED", "20260310")),
        "generation": {"allow-extra-parameters": False},
        "operations": [
            {
                "include-path": "/api/v1/auth/token/",
                "include-method": "POST",
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}
                },
            }
        ]
        + [
            {
                "include-path": path,
                "include-method": method,
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404", "409", "429"]}},
            }
            for path, method in [("/api/v1/partner/webhooks/", "POST"), ("/api/v1/partner/webhooks/{id}/", "PATCH")]
        ],
    }
)


@pytest.fixture
def same_connection():
    """Requests go through the WSGI handler, whose request signals close "old" connections,
    which would end the test's transaction on PostgreSQL; Django's test client detaches them too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}


@pytest.fixture
def world(db, alice, partner, time_machine, unthrottled, same_connection, settings):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False)
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    program = build_program(weeks=2, days=(1, 3, 5), items_per_session=2, slug="back")
    ProgramFactory(slug="draft", status=Program.Status.DRAFT)
    ProgramSessionFactory(program=ProgramFactory(slug="neck"), week=1, day=1)
    member = UserFactory(username="pm", partner=partner, external_id="pm-1")
    enrolments = [
        EnrolmentFactory(member=owner, program=program, start_date=dt.date(2026, 3, 2)) for owner in (alice, member)
    ]
    for enrolment in enrolments:
        for session in program.sessions.filter(week=1):
            CompletionFactory(enrolment=enrolment, program_session=session)
    return {
        "alice": alice,
        "program": program,
        "member": member,
        "alice_enrolment": enrolments[0],
        "member_enrolment": enrolments[1],
        "stretch": program.sessions.first().items.first().stretch.slug,
        "sessions": list(program.sessions.values_list("pk", flat=True)),
        "partner_key": PartnerAPIKey.objects.create_key(name="fuzz", partner=partner)[1],
        "webhook": webhook_services.endpoint_create(partner=partner, url="http://127.0.0.1:9/hooks", events=[]),
        "event": webhook_services.event_record(type="member.updated", obj=member, member=member),
    }


# Loaded from the live endpoint through the WSGI app. (schemathesis.pytest.from_fixture, the lazy
# loader, reads pytest's private Node._nodeid, which pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=CONFIG)


def _point_at_real_objects(case, world) -> None:
    """Most positive ids become the caller's real objects; the rest stay as generated (and 404)."""
    partner_op = case.path.startswith("/api/v1/partner/")

    def real(name: str, value):
        number = int(value) if isinstance(value, str) and value.isdigit() else value
        if not isinstance(number, int) or number <= 0 or number % 4 == 0:
            return value
        if name == "member_pk" or (name == "id" and case.path == "/api/v1/partner/members/{id}/"):
            return world["member"].pk
        if name == "id" and case.path.startswith("/api/v1/partner/webhooks/"):
            return world["webhook"].pk
        if name == "id" and case.path.startswith("/api/v1/partner/events/"):
            return world["event"].pk
        if name in ("enrolment_pk", "id"):
            return (world["member_enrolment"] if partner_op else world["alice_enrolment"]).pk
        if name == "session":
            return world["sessions"][number % len(world["sessions"])]
        return value

    params = case.path_parameters or {}
    for name, value in list(params.items()):
        params[name] = real(name, value)
    if "slug" in params and isinstance(params["slug"], str) and len(params["slug"]) % 2:
        params["slug"] = "back" if case.path.startswith("/api/v1/programs/") else world["stretch"]


def _valid_where_the_schema_cannot_say(case, world) -> None:
    """Rules a JSON schema cannot express, applied to valid bodies: a start date near today, fresh keys."""
    body = case.body
    if isinstance(body, dict) and case.path.endswith("/enrolments/") and case.method == "POST":
        if isinstance(body.get("start_date"), str):
            body["start_date"] = "2026-03-10"
        if isinstance(body.get("program"), str) and len(body["program"]) % 2:
            body["program"] = "neck"
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 0 < len(key) <= 200 and key.isprintable() and key.isascii():
        # Generated keys repeat ("0", "a"): each request gets its own, or most answers would be 409s.
        case.headers["Idempotency-Key"] = f"{key}-{uuid.uuid4().hex}"


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_it_conforms_to_its_schema(case, world):
    _point_at_real_objects(case, world)
    _valid_where_the_schema_cannot_say(case, world)
    if case.path.startswith("/api/v1/partner/"):
        authorization = f"Api-Key {world['partner_key']}"
    else:
        # A fresh token each time: DELETE /auth/token/ revokes the one it is sent with.
        authorization = f"Token {token_for(world['alice'])}"
    response = case.call_and_validate(headers={"Authorization": authorization})
    if os.environ.get("SCHEMA_STATS"):
        with open(os.environ["SCHEMA_STATS"], "a") as stats:
            stats.write(f"{case.method} {case.path} {response.status_code}\n")


def test_the_schema_passes_spectacular_validation(db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_it_serves_the_docs_without_a_cdn(client, db):
    page = client.get("/api/v1/docs/")
    script = client.get("/api/v1/docs/?script=")

    assert page.status_code == script.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", html.replace("http://www.w3.org", ""))
    assert "<script>" not in html  # the Content-Security-Policy allows no inline script
    assert b"/api/v1/schema/" in script.content
