import datetime as dt

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts.models import APIToken, PartnerAPIKey
from stretchhub.api.authentication import token_digest
from tests.api.conftest import key_for, token_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _rates(**rates):
    rest = settings.REST_FRAMEWORK
    return override_settings(
        REST_FRAMEWORK={**rest, "DEFAULT_THROTTLE_RATES": {**rest["DEFAULT_THROTTLE_RATES"], **rates}}
    )


def test_it_gives_a_token_for_a_username_and_password(api, alice):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 201
    raw = response.json()["token"]
    token = APIToken.objects.get(user=alice)
    assert token.digest == token_digest(raw)
    assert raw not in (token.digest, token.prefix)
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/me/").json()["username"] == "alice"


def test_it_accepts_the_email_address_as_username(api, alice):
    response = api.post("/api/v1/auth/token/", {"username": alice.email, "password": PASSWORD}, format="json")

    assert response.status_code == 201


def test_it_refuses_wrong_credentials_with_a_json_400(api, alice):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Unable to log in with this username and password."
    assert not APIToken.objects.exists()


def test_it_gives_no_token_to_a_partner_managed_member_without_a_password(api, partner_member):
    response = api.post("/api/v1/auth/token/", {"username": partner_member.username, "password": ""}, format="json")

    assert response.status_code == 400


def test_it_revokes_the_token_it_is_called_with(api, alice):
    raw, other = token_for(alice), token_for(alice)
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    assert api.delete("/api/v1/auth/token/").status_code == 204

    assert api.get("/api/v1/me/").status_code == 401
    assert list(APIToken.objects.values_list("digest", flat=True)) == [token_digest(other)]


def test_it_throttles_token_requests_per_address(api, alice):
    with _rates(token="3/min"):
        statuses = [
            api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json").status_code
            for _ in range(4)
        ]

    assert statuses == [201, 201, 201, 429]
    assert APIToken.objects.count() == 3


def test_it_says_when_to_retry_after_throttling(api, alice):
    with _rates(token="1/min"):
        api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


@override_settings(AXES_FAILURE_LIMIT=3)
def test_it_locks_an_account_out_after_repeated_failures_in_json(api, alice):
    for _ in range(2):
        api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json")

    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "Too many failed logins" in response.json()["message"]
    # Locked out even with the right password.
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert not APIToken.objects.exists()


def test_it_throttles_members_per_user(alice, bob):
    alice_api, bob_api = _client(f"Token {token_for(alice)}"), _client(f"Token {token_for(bob)}")
    with _rates(member="2/min"):
        assert [alice_api.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
        assert bob_api.get("/api/v1/me/").status_code == 200


def test_it_throttles_partners_per_partner(partner, partner_b):
    first, second = _client(f"Api-Key {key_for(partner)}"), _client(f"Api-Key {key_for(partner)}")
    with _rates(partner="2/min"):
        assert first.get("/api/v1/partner/members/").status_code == 200
        assert second.get("/api/v1/partner/members/").status_code == 200
        # Another key of the same partner shares its budget; another partner has its own.
        assert first.get("/api/v1/partner/members/").status_code == 429
        assert _client(f"Api-Key {key_for(partner_b)}").get("/api/v1/partner/members/").status_code == 200


def test_it_throttles_anonymous_callers_per_address(api, program):
    with _rates(anon="2/min"):
        assert [api.get("/api/v1/programs/").status_code for _ in range(3)] == [200, 200, 429]


def _client(authorization: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def test_it_authenticates_a_partner_key_and_records_its_last_use(partner, now, time_machine):
    raw = key_for(partner)
    client = _client(f"Api-Key {raw}")

    assert client.get("/api/v1/partner/members/").status_code == 200
    key = PartnerAPIKey.objects.get(partner=partner)
    assert key.last_used_at == now
    assert key.hashed_key != raw and raw.split(".")[1] not in key.hashed_key

    time_machine.move_to(now + dt.timedelta(seconds=30), tick=False)
    client.get("/api/v1/partner/members/")
    key.refresh_from_db()
    assert key.last_used_at == now  # written at most once a minute

    time_machine.move_to(now + dt.timedelta(minutes=2), tick=False)
    client.get("/api/v1/partner/members/")
    key.refresh_from_db()
    assert key.last_used_at == now + dt.timedelta(minutes=2)


def test_it_costs_no_write_to_use_a_recently_used_key(partner, django_assert_num_queries):
    client = _client(f"Api-Key {key_for(partner)}")
    client.get("/api/v1/partner/members/")

    with django_assert_num_queries(2):  # the key (with its partner), the members page (empty: no count query)
        client.get("/api/v1/partner/members/")


@pytest.mark.parametrize(
    "authorization",
    ["Api-Key nonsense", "Api-Key abc.def", "Api-Key", "Token nonsense", "Token a b"],
)
def test_it_refuses_bad_credentials_with_a_401(authorization, partner):
    key_for(partner)
    response = _client(authorization).get("/api/v1/programs/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_it_refuses_revoked_expired_and_inactive_partner_keys(partner, partner_b):
    revoked, raw_revoked = PartnerAPIKey.objects.create_key(name="old", partner=partner)
    revoked.revoked = True
    revoked.save()
    _, raw_expired = PartnerAPIKey.objects.create_key(
        name="expired", partner=partner, expiry_date=timezone.now() - dt.timedelta(days=1)
    )
    raw_inactive = key_for(partner_b)
    partner_b.is_active = False
    partner_b.save()

    for raw in (raw_revoked, raw_expired, raw_inactive):
        response = _client(f"Api-Key {raw}").get("/api/v1/partner/members/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Api-Key"


def test_it_tells_member_endpoints_from_partner_endpoints(alice, partner):
    member, partner_client = _client(f"Token {token_for(alice)}"), _client(f"Api-Key {key_for(partner)}")

    assert member.get("/api/v1/partner/members/").status_code == 401
    assert partner_client.get("/api/v1/me/").status_code == 401
    assert partner_client.get("/api/v1/enrolments/").status_code == 401


def test_it_accepts_a_logged_in_session_with_csrf_on_writes(alice):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.get("/api/v1/me/").status_code == 200
    response = client.patch("/api/v1/me/", {"display_name": "Al"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_it_refuses_a_token_of_a_deactivated_member(alice):
    client = _client(f"Token {token_for(alice)}")
    alice.is_active = False
    alice.save()

    assert client.get("/api/v1/me/").status_code == 401


def test_it_does_not_let_a_stale_token_block_logging_in(api, alice):
    api.credentials(HTTP_AUTHORIZATION="Token revoked-long-ago")

    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 201
