"""Every API endpoint and method, as every kind of caller: the exact status, and nothing changed when refused.

Callers: anonymous, the owner (alice), another member (bob), a trainer, partner A
on its own member, partner A on partner B's member, and a revoked partner key.
Member endpoints address alice's objects whoever calls; partner endpoints address
partner A's member (for partner A) or partner B's member (for "partner A on B").
"""

import datetime as dt
import itertools
import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import APIToken, Partner, PartnerAPIKey, User
from programs import services
from programs.models import Completion, Enrolment
from stretchhub.api.models import IdempotencyRecord
from tests.api.conftest import key_for, token_for
from tests.factories import CompletionFactory, EnrolmentFactory, ProgramFactory, UserFactory
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

ANON, OWNER, OTHER, TRAINER, PARTNER_OWN, PARTNER_OTHER, REVOKED = (
    "anonymous",
    "owner",
    "another member",
    "trainer",
    "partner A on its member",
    "partner A on B's member",
    "revoked key",
)
# The owner and partner A on its own member go last: their writes succeed and change state.
CALLERS = [ANON, OTHER, TRAINER, PARTNER_OTHER, REVOKED, PARTNER_OWN, OWNER]


def public(status=200):
    return {caller: status for caller in CALLERS} | {REVOKED: 401}


def member_object(status):
    """Alice's object: only alice reaches it; other people find nothing; partner keys are not member credentials."""
    return {ANON: 401, OTHER: 404, TRAINER: 404, PARTNER_OTHER: 401, REVOKED: 401, PARTNER_OWN: 401, OWNER: status}


def member_self(status):
    """An endpoint about the caller themselves (/me, tokens): every member gets their own."""
    return {
        ANON: 401,
        OTHER: status,
        TRAINER: status,
        PARTNER_OTHER: 401,
        REVOKED: 401,
        PARTNER_OWN: 401,
        OWNER: status,
    }


def partner_object(status, other=404):
    return {ANON: 401, OTHER: 401, TRAINER: 401, PARTNER_OTHER: other, REVOKED: 401, PARTNER_OWN: status, OWNER: 401}


_emails = itertools.count()


def new_partner_member(_ctx):
    n = next(_emails)
    return {"external_id": f"new-{n}", "email": f"new{n}@clinic.example"}


P = "/api/v1/partner/members/{member}"
W = "/api/v1/partner/webhooks/{webhook}"
E = "/api/v1/enrolments/{enrolment}"
PE = P + "/enrolments/{enrolment}"

# (method, url, body or body factory, expected status by caller, setup before the calls)
ENDPOINTS = [
    # The schema and docs ignore credentials altogether (SERVE_AUTHENTICATION = []).
    ("get", "/api/v1/schema/", None, public() | {REVOKED: 200}, None),
    ("get", "/api/v1/docs/", None, public() | {REVOKED: 200}, None),
    ("get", "/api/v1/body-areas/", None, public(), None),
    ("get", "/api/v1/stretches/", None, public(), None),
    ("get", "/api/v1/stretches/{stretch}/", None, public(), None),
    ("get", "/api/v1/programs/", None, public(), None),
    ("get", "/api/v1/programs/{program}/", None, public(), None),
    ("get", "/api/v1/programs/{draft}/", None, public(404), None),
    (
        "post",
        "/api/v1/auth/token/",
        {"username": "alice", "password": "stretch-it-out-42"},
        public(201) | {REVOKED: 201},
        None,
    ),
    ("delete", "/api/v1/auth/token/", None, member_self(204), None),
    ("get", "/api/v1/me/", None, member_self(200), None),
    ("patch", "/api/v1/me/", {"display_name": "Changed"}, member_self(200), None),
    ("post", "/api/v1/me/calendar-token/", None, member_self(200), None),
    ("get", "/api/v1/enrolments/", None, member_self(200), None),
    ("post", "/api/v1/enrolments/", {"program": "neck"}, member_self(201), None),
    ("get", E + "/", None, member_object(200), None),
    ("patch", E + "/", {"reminder_time": "06:30"}, member_object(200), None),
    ("post", E + "/pause/", None, member_object(200), None),
    ("post", E + "/resume/", None, member_object(200), "pause"),
    ("post", E + "/leave/", None, member_object(200), None),
    ("get", E + "/progress/", None, member_object(200), None),
    ("get", E + "/completions/", None, member_object(200), None),
    ("post", E + "/completions/", {"session": "{due_session}"}, member_object(201), None),
    ("get", E + "/completions/{done_session}/", None, member_object(200), None),
    ("delete", E + "/completions/{done_session}/", None, member_object(204), None),
    ("get", "/api/v1/partner/members/", None, partner_object(200, other=200), None),
    ("post", "/api/v1/partner/members/", new_partner_member, partner_object(201, other=201), None),
    ("get", P + "/", None, partner_object(200), None),
    ("patch", P + "/", {"display_name": "Changed"}, partner_object(200), None),
    ("get", P + "/enrolments/", None, partner_object(200), None),
    ("post", P + "/enrolments/", {"program": "neck"}, partner_object(201), None),
    ("get", PE + "/", None, partner_object(200), None),
    ("patch", PE + "/", {"reminder_time": "06:30"}, partner_object(200), None),
    ("post", PE + "/pause/", None, partner_object(200), None),
    ("post", PE + "/resume/", None, partner_object(200), "pause"),
    ("post", PE + "/leave/", None, partner_object(200), None),
    ("get", PE + "/progress/", None, partner_object(200), None),
    ("get", PE + "/completions/", None, partner_object(200), None),
    ("post", PE + "/completions/", {"session": "{due_session}"}, partner_object(201), None),
    ("get", PE + "/completions/{done_session}/", None, partner_object(200), None),
    ("delete", PE + "/completions/{done_session}/", None, partner_object(204), None),
    ("get", "/api/v1/partner/webhooks/", None, partner_object(200, other=200), None),
    ("post", "/api/v1/partner/webhooks/", {"url": "http://127.0.0.1:9/hooks"}, partner_object(201, other=201), None),
    ("get", W + "/", None, partner_object(200), None),
    ("patch", W + "/", {"events": ["enrolment.left"]}, partner_object(200), None),
    ("post", W + "/rotate-secret/", None, partner_object(200), None),
    ("post", W + "/test/", None, partner_object(202), None),
    ("delete", W + "/", None, partner_object(204), None),
    ("get", "/api/v1/partner/events/", None, partner_object(200, other=200), None),
    ("post", "/api/v1/partner/events/{event}/redeliver/", None, partner_object(202), None),
    (
        "post",
        "/api/v1/partner/events/redeliver/",
        {"since": "2026-03-01T00:00:00Z"},
        partner_object(202, other=202),
        None,
    ),
    ("get", "/calendar/{calendar}.ics", None, {caller: 200 for caller in CALLERS}, None),
]


@pytest.fixture
def world(alice, bob, trainer, partner, partner_b, program, time_machine, settings):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False)
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    ProgramFactory(slug="draft", status="draft")
    ProgramFactory(slug="neck")
    own_member = UserFactory(username="pm-a", partner=partner, external_id="a-1")
    other_member = UserFactory(username="pm-b", partner=partner_b, external_id="b-1")
    done, due = program.sessions.get(week=1, day=1), program.sessions.get(week=1, day=3)
    enrolments = {}
    for owner in (alice, own_member, other_member):
        enrolment = EnrolmentFactory(member=owner, program=program, start_date=dt.date(2026, 3, 2))
        CompletionFactory(enrolment=enrolment, program_session=done)
        enrolments[owner.pk] = enrolment
    # Each partner's endpoint and an event about its member: "partner A on B's" addresses B's.
    webhooks, events = {}, {}
    for member in (own_member, other_member):
        webhooks[member.partner_id] = webhook_services.endpoint_create(
            partner=member.partner, url="http://127.0.0.1:9/hooks", events=[]
        )
        events[member.partner_id] = webhook_services.event_record(type="member.updated", obj=member, member=member)
    revoked, revoked_raw = PartnerAPIKey.objects.create_key(name="old", partner=partner)
    revoked.revoked = True
    revoked.save()
    partner_key = key_for(partner)
    clients = {
        ANON: (_client(None), alice),
        OWNER: (_client(f"Token {token_for(alice)}"), alice),
        OTHER: (_client(f"Token {token_for(bob)}"), alice),
        TRAINER: (_client(f"Token {token_for(trainer)}"), alice),
        PARTNER_OWN: (_client(f"Api-Key {partner_key}"), own_member),
        PARTNER_OTHER: (_client(f"Api-Key {partner_key}"), other_member),
        REVOKED: (_client(f"Api-Key {revoked_raw}"), own_member),
    }
    return {
        "clients": clients,
        "enrolments": enrolments,
        "stretch": program.sessions.first().items.first().stretch.slug,
        "done": done,
        "due": due,
        "alice": alice,
        "webhooks": webhooks,
        "events": events,
        "partner": partner,
    }


def _client(authorization):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def _state() -> dict:
    return {
        "users": list(User.objects.order_by("pk").values()),
        "enrolments": list(Enrolment.objects.order_by("pk").values()),
        "completions": list(Completion.objects.order_by("pk").values()),
        "tokens": list(APIToken.objects.order_by("pk").values("pk", "user_id", "digest")),
        "keys": list(PartnerAPIKey.objects.order_by("pk").values("pk", "revoked")),
        "partners": list(Partner.objects.order_by("pk").values()),
        "idempotency": IdempotencyRecord.objects.count(),
        "webhooks": list(WebhookEndpoint.objects.order_by("pk").values()),
        "deliveries": list(WebhookDelivery.objects.order_by("pk").values()),
        "events": WebhookEvent.objects.count(),
    }


def _fill(template, ctx):
    if isinstance(template, dict):
        return {k: _fill(v, ctx) for k, v in template.items()}
    if isinstance(template, str):
        filled = template.format(**ctx)
        return int(filled) if filled.isdigit() and template.startswith("{") else filled
    return template


@pytest.mark.parametrize(
    ("method", "url", "body", "expected", "setup"),
    ENDPOINTS,
    ids=[f"{method.upper()} {url}" for method, url, *_ in ENDPOINTS],
)
def test_it_gives_each_caller_exactly_its_status(world, method, url, body, expected, setup):
    assert set(expected) == set(CALLERS)

    for caller in CALLERS:
        client, member = world["clients"][caller]
        enrolment = world["enrolments"][member.pk]
        if setup == "pause" and enrolment.status == "active":
            services.enrolment_pause(enrolment=enrolment)
        ctx = {
            "member": member.pk,
            "enrolment": enrolment.pk,
            "done_session": world["done"].pk,
            "due_session": world["due"].pk,
            "stretch": world["stretch"],
            "calendar": world["alice"].calendar_token,
            "program": "back",
            "draft": "draft",
            "webhook": world["webhooks"][member.partner_id or world["partner"].pk].pk,
            "event": world["events"][member.partner_id or world["partner"].pk].pk,
        }
        data = body(ctx) if callable(body) else _fill(body, ctx)
        before = _state()

        response = getattr(client, method)(_fill(url, ctx), data, format="json")

        assert response.status_code == expected[caller], f"{caller}: {response.status_code} {response.content[:300]}"
        if response.status_code >= 400:
            assert _state() == before, f"{caller} changed something with a {response.status_code}"
            if not url.startswith("/calendar/"):
                assert set(response.json()) == {"message", "code", "errors"}


def test_it_covers_every_operation_of_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    operations = {(method, shape(path)) for path, ops in schema["paths"].items() for method in ops}
    covered = {(method, shape(url)) for method, url, *_ in ENDPOINTS}
    assert operations <= covered
