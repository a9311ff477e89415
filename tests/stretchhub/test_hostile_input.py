"""Hostile input anywhere is answered below 500, and a refused request writes nothing.

Every write operation of the API (read from its OpenAPI schema, so a new
endpoint is covered without touching this file) and every form of the site
(from the URL conf: a new page fails `test_every_page_is_covered` until it
is listed below) gets generated hostile values as its signed-in user: deep
nesting, huge strings, NUL, unpaired surrogates, bytes that are not UTF-8,
huge and non-finite numbers, impossible dates. Query strings and path
parameters get the same. NUL only fails on PostgreSQL: run this there too.

A request that does not succeed (2xx on the API, a redirect after a web form)
must leave users, enrolments, ticks and tokens as they were.

HOSTILE_SEED=<n> explores other inputs; the fixed default keeps CI repeatable.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from functools import partial
from urllib.parse import quote_from_bytes

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from accounts.models import APIToken, PartnerAPIKey, User
from accounts.tokens import email_verification_token
from programs.models import Completion, Enrolment
from programs.reminders import links
from stretchhub import vapid
from tests.api.conftest import token_for
from tests.conftest import AxesAwareClient
from tests.factories import CompletionFactory, EnrolmentFactory, ProgramFactory, UserFactory, build_program

SEED = int(os.environ.get("HOSTILE_SEED", "20260310"))
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
WRITE_METHODS = ("post", "put", "patch", "delete")
FORM = "application/x-www-form-urlencoded"


def examples(n: int):
    """Hypothesis settings for one operation's inner test: a few examples each, from the fixed seed."""
    hypothesis_settings = settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    return lambda test: seed(SEED)(hypothesis_settings(test))


def for_examples(n: int, strategy, check) -> None:
    """Runs check(value) on n values drawn from strategy (one Hypothesis run per operation or page)."""

    @examples(n)
    @given(strategy)
    def run(value):
        check(value)

    run()


# --- Hostile values -----------------------------------------------------------------------------------


class Raw(bytes):
    """JSON text spliced into a body as it is: what json.dumps cannot write."""


def to_json(value) -> bytes:
    if isinstance(value, Raw):
        return bytes(value)
    if isinstance(value, dict):
        return b"{" + b",".join(to_json(k) + b":" + to_json(v) for k, v in value.items()) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(map(to_json, value)) + b"]"
    # ensure_ascii writes NUL and surrogates as \u escapes; allow_nan writes NaN and Infinity.
    return json.dumps(value, allow_nan=True).encode()


DATES = ["0000-01-01", "0001-01-01", "99999-01-01", "2026-02-30", "2026-13-01", "-2026-03-10", "9999-12-31"]
TIMES = ["24:00", "23:60", "08:00:60", "-01:00", "08:00+02:00", "99999999:00", "08:00\x00"]
BAD_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])
short_text = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy"]),
    st.text(st.one_of(st.characters(), BAD_CHARACTERS), max_size=12),
)
hostile_text = st.one_of(
    short_text,
    st.sampled_from(DATES + TIMES),
    st.integers(10_000, 3_000_000).map(lambda n: "x" * n),  # up to past DATA_UPLOAD_MAX_MEMORY_SIZE
)
numbers = st.one_of(
    st.integers(-(10**100), 10**100),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**64, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
)
raw_json = st.one_of(
    st.sampled_from(
        [b"NaN", b"-Infinity", b"1e400", b"-0", b"-0.0", b"1e-400", b"9" * 5000, b'"\xff\xfe"', b'"\xed\xa0\x80"']
    ),
    st.integers(17, 100_000).map(lambda n: b"[" * n + b"]" * n),
).map(Raw)
json_value = st.recursive(
    st.one_of(hostile_text, numbers, st.booleans(), st.none(), raw_json),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(short_text, children, max_size=3)),
    max_leaves=6,
)


def json_bodies(fields: list[str]):
    in_fields = st.dictionaries(st.sampled_from(fields), json_value, min_size=1) if fields else st.nothing()
    return st.one_of(in_fields, json_value, st.binary(max_size=40).map(Raw)).map(to_json)


form_value = st.one_of(
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),  # a surrogate as bytes ED A0 80
    st.binary(max_size=20),
    st.integers(-(10**100), 10**100).map(lambda n: str(n).encode()),
    st.sampled_from([b"NaN", b"Infinity", b"-0", b"1e400", b"9" * 5000]),
)


def urlencoded(values: dict[str, bytes]) -> str:
    return "&".join(
        f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v)}" for k, v in values.items()
    )


def query_strings(names: list[str]):
    name = st.sampled_from(names) if names else st.text("abcdefgh_", min_size=1, max_size=8)
    values = st.dictionaries(name, form_value, min_size=1, max_size=3)
    # Names may be hostile too.
    named_badly = st.dictionaries(short_text.map(lambda s: s or "x"), form_value, min_size=1, max_size=2)
    return st.one_of(values, named_badly).map(urlencoded)


path_value = st.one_of(
    short_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=20),
    st.sampled_from(DATES + TIMES).map(str.encode),
    st.integers(-(10**100), 10**100).map(lambda n: str(n).encode()),
    st.just(b"9" * 5000),
).filter(bool)


# --- The world and what must not change ---------------------------------------------------------------


@pytest.fixture
def world(db, alice, partner, time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    settings.ACCOUNT_SIGNUP_RATE = settings.ACCOUNT_PASSWORD_RESET_RATE = "100000/h"
    settings.ACCOUNT_PASSWORD_RESET_EMAIL_RATE = "100000/h"
    settings.AXES_FAILURE_LIMIT = 100000
    settings.VAPID_PRIVATE_KEY = vapid.new_private_key()
    alice.set_password("alice-Secret-2026")
    alice.save()
    program = build_program(weeks=2, days=(1, 3, 5), items_per_session=2, slug="back")
    build_program(weeks=1, days=(1,), items_per_session=1, slug="neck")
    ProgramFactory(slug="draft")
    member = UserFactory(username="pm", partner=partner, external_id="pm-1")
    enrolments = [EnrolmentFactory(member=m, program=program, start_date=dt.date(2026, 3, 2)) for m in (alice, member)]
    sessions = list(program.sessions.order_by("week", "day"))
    for enrolment in enrolments:
        CompletionFactory(enrolment=enrolment, program_session=sessions[0])
    return {
        "alice": alice,
        "program": program,
        "member": member,
        "alice_enrolment": enrolments[0],
        "member_enrolment": enrolments[1],
        "session": sessions[1],
        "stretch": sessions[0].items.first().stretch.slug,
        "partner_key": PartnerAPIKey.objects.create_key(name="hostile", partner=partner)[1],
    }


def snapshot():
    return (
        list(
            User.objects.order_by("pk").values_list(
                "pk", "email", "display_name", "timezone", "default_reminder_time", "email_reminders", "is_active",
                "password", "calendar_token", "external_id", "email_verified_at",
            )
        ),
        list(
            Enrolment.objects.order_by("pk").values_list(
                "pk", "status", "start_date", "reminder_time", "reminders_enabled", "paused_on", "ended_at"
            )
        ),
        list(
            Completion.objects.order_by("pk").values_list(
                "pk", "enrolment_id", "program_session_id", "pain_before", "pain_after", "note"
            )
        ),
        APIToken.objects.count(),
    )  # fmt: skip


def assert_safe(response, before, *, succeeded: bool, api: bool) -> None:
    assert response.status_code < 500, response.content[:500]
    if api and response.status_code >= 400:
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"message", "code", "errors"}
    if not succeeded:
        assert snapshot() == before, f"a refused request ({response.status_code}) changed data"


# --- The API ------------------------------------------------------------------------------------------


def api_operations(client) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "").rsplit("/", 1)[-1]
            operation["x-fields"] = list(components.get(ref, {}).get("properties", {}))
            operation["x-query"] = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            operations.append((method, path, operation))
    return operations


def api_path(path: str, world, *, hostile: dict[str, bytes] | None = None) -> str:
    partner = path.startswith("/api/v1/partner/")
    enrolment = world["member_enrolment"] if partner else world["alice_enrolment"]
    values = {
        "member_pk": world["member"].pk,
        "enrolment_pk": enrolment.pk,
        "id": world["member"].pk if path == "/api/v1/partner/members/{id}/" else enrolment.pk,
        "session": world["session"].pk,
        "slug": world["stretch"] if path.startswith("/api/v1/stretches/") else world["program"].slug,
    }
    for name, value in (hostile or {}).items():
        values[name] = quote_from_bytes(value, safe="")
    # A parameter not known here is a KeyError: give new endpoints a real value above.
    return re.sub(r"{(\w+)}", lambda m: str(values[m[1]]), path)


def api_client(path: str, world):
    client = AxesAwareClient()
    client.raise_request_exception = False
    if path.startswith("/api/v1/partner/"):
        client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {world['partner_key']}"
    else:
        # A fresh token each time: DELETE /auth/token/ revokes the one it is sent with.
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(world['alice'])}"
    return client


@pytest.fixture
def operations(world, client):
    return api_operations(client)


def test_it_finds_the_api_write_operations(operations):
    writes = {(method, path) for method, path, _ in operations if method in WRITE_METHODS}
    assert ("patch", "/api/v1/me/") in writes
    assert ("post", "/api/v1/partner/members/{member_pk}/enrolments/{enrolment_pk}/completions/") in writes
    assert len(writes) >= 15


def test_api_writes_survive_hostile_bodies(world, operations):
    def check(method, path, body):
        client = api_client(path, world)
        before = snapshot()
        response = client.generic(method.upper(), api_path(path, world), body, content_type="application/json")
        assert_safe(response, before, succeeded=200 <= response.status_code < 300, api=True)

    for method, path, operation in operations:
        if method in WRITE_METHODS:
            for_examples(15, json_bodies(operation["x-fields"]), partial(check, method, path))


def test_api_reads_survive_hostile_query_strings(world, operations):
    def check(path, query):
        client = api_client(path, world)
        before = snapshot()
        response = client.get(f"{api_path(path, world)}?{query}")
        assert_safe(response, before, succeeded=False, api=True)

    for method, path, operation in operations:
        if method == "get" and not path.endswith(("/schema/", "/docs/")):
            for_examples(8, query_strings(operation["x-query"]), partial(check, path))


def test_api_survives_hostile_path_parameters(world, operations):
    def check(method, path, hostile):
        name, value = hostile
        client = api_client(path, world)
        before = snapshot()
        url = api_path(path, world, hostile={name: value})
        response = client.generic(method.upper(), url, b"{}", content_type="application/json")
        assert_safe(response, before, succeeded=200 <= response.status_code < 300, api=True)

    for method, path, _operation in operations:
        if names := re.findall(r"{(\w+)}", path):
            for_examples(8, st.tuples(st.sampled_from(names), path_value), partial(check, method, path))


# --- The site -----------------------------------------------------------------------------------------

# Each form's fields; its URL's keyword arguments come from `page_kwargs`. "anonymous" forms are
# posted signed out (sign-up redirects a signed-in member), the rest as alice.
FORMS = {
    "accounts:signup": ("anonymous", ["email", "display_name", "password1", "password2", "timezone", "next"]),
    "accounts:login": ("anonymous", ["username", "password", "next"]),
    "accounts:logout": ("alice", []),
    "accounts:verify_resend": ("alice", ["next"]),
    "accounts:verify": ("anonymous", []),
    "accounts:password_change": ("alice", ["old_password", "new_password1", "new_password2"]),
    "accounts:password_reset": ("anonymous", ["email"]),
    "accounts:password_reset_confirm": ("anonymous", ["new_password1", "new_password2"]),
    "accounts:settings": (
        "alice",
        ["display_name", "timezone", "default_reminder_time", "email_reminders", "language"],
    ),
    "accounts:delete": ("alice", ["password"]),
    "programs:enrol": ("alice", ["start_date", "reminder_time", "reminders_enabled"]),
    "programs:enrolment_pause": ("alice", ["next"]),
    "programs:enrolment_resume": ("alice", ["next"]),
    "programs:enrolment_leave": ("alice", ["next"]),
    "programs:enrolment_finish": ("alice", ["next"]),
    "programs:enrolment_restart": ("alice", ["restart-start_date"]),
    "programs:enrolment_reminder": ("alice", ["reminder_time", "reminders_enabled", "next"]),
    "programs:session_tick": ("alice", ["pain_before", "pain_after", "note"]),
    "programs:session_undo": ("alice", []),
    "reminders:done": ("anonymous", []),
    "reminders:unsubscribe": ("anonymous", []),
    "reminders:preference_off": ("anonymous", []),
    "calendar:rotate": ("alice", []),
    "set_language": ("alice", ["language", "next"]),
    # The settings page's script sends JSON; whatever else arrives is a 400 that stores nothing.
    "accounts:push_subscribe": ("alice", ["endpoint", "keys"]),
    "accounts:push_remove": ("alice", []),
}
# Forms that answer success with a result page, not a redirect: the email links' confirmations.
RESULT_PAGES = {"reminders:done", "reminders:unsubscribe", "reminders:preference_off"}
# Pages that only show something: they get hostile query strings (as do the forms' pages).
PAGES = {
    "healthz",
    "home",
    "programs:catalogue",
    "programs:detail",
    "programs:preview",
    "programs:dashboard",
    "programs:enrolment",
    "programs:session",
    "programs:handout",
    "programs:session_handout",
    "accounts:verify_sent",
    "accounts:password_change_done",
    "accounts:password_reset_done",
    "accounts:password_reset_complete",
    "accounts:export",
    "calendar:feed",
    "javascript-catalog",
    # Stored pictures (served by Django when they live on the filesystem): hostile paths never leave var/media/.
    "media",
    "service_worker",
    "manifest",
    "offline",
    "offline_pages",
}
QUERY_NAMES = ["next", "body_area", "level", "length", "speed", "page", "lang", "paper"]


def site_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in ("admin", "api"):
                    continue
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_page_is_covered():
    assert site_url_names() == set(FORMS) | PAGES


def page_kwargs(name: str, world) -> dict:
    alice, enrolment = world["alice"], world["alice_enrolment"]
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    kwargs = {
        "accounts:verify": {"token": email_verification_token(alice)},
        # Django's reset view keeps the token in the session and redirects here: see site_client.
        "accounts:password_reset_confirm": {"uidb64": uid, "token": "set-password"},
        "programs:enrol": {"slug": "neck"},
        "programs:detail": {"slug": "back"},
        "programs:preview": {"slug": "back"},
        "programs:handout": {"slug": "back"},
        "programs:session_handout": {"pk": enrolment.pk, "session_pk": world["session"].pk},
        "programs:session_tick": {"pk": enrolment.pk, "session_pk": world["session"].pk},
        "programs:session_undo": {"pk": enrolment.pk, "session_pk": world["session"].pk},
        "programs:session": {"pk": enrolment.pk, "session_pk": world["session"].pk},
        "reminders:done": {"token": links.done_token(enrolment_id=enrolment.pk, session_id=world["session"].pk)},
        "reminders:unsubscribe": {"token": links.unsubscribe_token(enrolment_id=enrolment.pk)},
        "reminders:preference_off": {"token": links.preference_off_token(user_id=alice.pk, preference="nudge_emails")},
        "calendar:feed": {"token": alice.calendar_token},
        "media": {"path": "stretches/images/none.png"},
        # No such device: a 404 that removes nothing.
        "accounts:push_remove": {"pk": 999_999},
    }
    if name in kwargs:
        return kwargs[name]
    return {"pk": enrolment.pk} if name.startswith("programs:enrolment_") or name == "programs:enrolment" else {}


def site_client(name: str, world, who: str) -> AxesAwareClient:
    client = AxesAwareClient()
    client.raise_request_exception = False
    if who == "alice":
        client.force_login(world["alice"])
    if name == "accounts:password_reset_confirm":
        alice = world["alice"]
        uid = urlsafe_base64_encode(force_bytes(alice.pk))
        token = default_token_generator.make_token(alice)
        client.get(reverse(name, kwargs={"uidb64": uid, "token": token}))
    return client


def test_site_forms_survive_hostile_values(world):
    def check(name, who, data):
        client = site_client(name, world, who)
        url = reverse(name, kwargs=page_kwargs(name, world))
        before = snapshot()
        if isinstance(data, str):
            response = client.post(url, data, content_type=FORM)
        else:
            response = client.post(url, data)
        succeeded = 300 <= response.status_code < 400 or (name in RESULT_PAGES and response.status_code == 200)
        assert_safe(response, before, succeeded=succeeded, api=False)

    for name, (who, fields) in FORMS.items():
        names = st.sampled_from(fields) if fields else short_text.map(lambda s: s or "x")
        urlencoded_forms = st.dictionaries(names, form_value, min_size=1, max_size=4).map(urlencoded)
        # The test client writes multipart as UTF-8, so only NUL (not surrogates or raw bytes) goes that way.
        text = st.text(st.one_of(st.characters(codec="utf-8"), st.just("\x00")), max_size=10)
        multipart = st.dictionaries(st.sampled_from(fields or ["x"]), text, min_size=1)
        for_examples(10, st.one_of(urlencoded_forms, multipart), partial(check, name, who))


def test_site_pages_survive_hostile_query_strings(world):
    def check(name, who, query):
        client = site_client(name, world, who)
        before = snapshot()
        response = client.get(f"{reverse(name, kwargs=page_kwargs(name, world))}?{query}")
        assert_safe(response, before, succeeded=False, api=False)

    for name in sorted(PAGES | set(FORMS)):
        who, fields = FORMS.get(name, ("alice", []))
        for_examples(5, query_strings(QUERY_NAMES + fields), partial(check, name, who))


def test_site_survives_hostile_path_parameters(world):
    def check(name, who, hostile):
        param, value, method = hostile
        client = site_client(name, world, who)
        kwargs = page_kwargs(name, world)
        before = snapshot()
        placeholder = 987654321 if isinstance(kwargs[param], int) else "placeholder"
        url = reverse(name, kwargs={**kwargs, param: placeholder})
        url = url.replace(str(placeholder), quote_from_bytes(value, safe=""))
        response = client.generic(method, url)
        assert_safe(response, before, succeeded=method == "POST" and 300 <= response.status_code < 400, api=False)

    for name in sorted(PAGES | set(FORMS)):
        if kwargs := page_kwargs(name, world):
            who = FORMS.get(name, ("alice", []))[0]
            hostile = st.tuples(st.sampled_from(sorted(kwargs)), path_value, st.sampled_from(["GET", "POST"]))
            for_examples(8, hostile, partial(check, name, who))
