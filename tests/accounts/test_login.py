import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse

from accounts.backends import axes_username
from accounts.selectors import user_for_login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR="203.0.113.7")


def _logged_in_as(client):
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize("identifier", ["alice", "alice@example.com", "Alice@Example.COM", " alice "])
def test_it_logs_in_with_the_username_or_the_email(client, alice, identifier):
    response = _login(client, identifier)

    assert response.status_code == 302
    assert response["Location"] == reverse("programs:dashboard")
    assert int(_logged_in_as(client)) == alice.pk


def test_it_refuses_a_wrong_password_with_a_form_error(client, alice):
    response = _login(client, "alice", "not-the-password")

    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert _logged_in_as(client) is None


def test_it_refuses_an_inactive_member(client, alice):
    alice.is_active = False
    alice.save()

    _login(client, "alice")

    assert _logged_in_as(client) is None


def test_it_prefers_an_exact_username_over_an_email(db):
    owner_of_name = UserFactory(username="sam@example.com", email="other@example.com")
    UserFactory(username="sam", email="sam@example.com")

    assert user_for_login("sam@example.com") == owner_of_name


def test_it_matches_nobody_when_two_accounts_match_equally(db):
    UserFactory(username="Kim", email="kim1@example.com")
    UserFactory(username="KIM", email="kim2@example.com")

    assert user_for_login("kim") is None
    assert user_for_login("Kim").email == "kim1@example.com"


def test_it_locks_out_after_five_failures_for_that_login_and_address(client, alice):
    for _ in range(4):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "wrong").status_code == 429

    response = _login(client, "alice")  # even the right password

    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert _logged_in_as(client) is None


def test_it_counts_failures_typed_in_other_cases_together(client, alice):
    for login in (
        "ALICE@example.com",
        "alice@EXAMPLE.com",
        "Alice@Example.com",
        "alice@example.com",
        "aLiCe@example.COM",
    ):
        _login(client, login, "wrong")

    assert _login(client, "alice@example.com").status_code == 429


def test_it_still_lets_the_member_in_from_another_address(client, alice):
    for _ in range(5):
        _login(client, "alice", "wrong")

    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.9")

    assert response.status_code == 302
    assert int(_logged_in_as(client)) == alice.pk


def test_it_forgets_earlier_failures_after_a_successful_login(client, alice):
    for _ in range(4):
        _login(client, "alice", "wrong")
    _login(client, "alice")
    client.logout()

    for _ in range(4):
        _login(client, "alice", "wrong")

    assert _login(client, "alice").status_code == 302


def test_it_lets_the_member_in_again_after_the_cool_off(client, alice, time_machine):
    time_machine.move_to("2026-05-01 12:00Z", tick=False)
    for _ in range(5):
        _login(client, "alice", "wrong")
    assert _login(client, "alice").status_code == 429

    time_machine.move_to("2026-05-01 12:16Z", tick=False)

    assert _login(client, "alice").status_code == 302


def test_it_refuses_authenticate_without_a_request_rather_than_skip_the_lockout(alice):
    with pytest.raises(ValueError, match="requires a request"):
        authenticate(username="alice", password=PASSWORD)


def test_it_keys_axes_attempts_by_the_case_folded_login():
    request = RequestFactory().post(LOGIN, {"username": " Alice@Example.com "})

    assert axes_username(request, None) == "alice@example.com"
    assert axes_username(request, {"username": "BOB"}) == "bob"


def test_it_records_failures_without_the_password(client, alice):
    _login(client, "alice", "wrong-secret")

    attempt = AccessAttempt.objects.get()
    assert attempt.username == "alice"
    assert "wrong-secret" not in attempt.post_data


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/steal", "//evil.example/", "http://evil.example", "javascript:alert(1)"],
)
def test_it_refuses_to_send_the_member_off_site_after_login(client, alice, next_url):
    response = _login(client, "alice", next=next_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("programs:dashboard")


def test_it_follows_a_next_on_this_site(client, alice):
    response = _login(client, "alice", next="/programs/lower-back/enrol/")

    assert response["Location"] == "/programs/lower-back/enrol/"


def test_it_logs_out_on_post_only(client, alice):
    client.force_login(alice)

    assert client.get("/accounts/logout/").status_code == 405
    assert _logged_in_as(client) is not None

    response = client.post("/accounts/logout/")

    assert response["Location"] == reverse("home")
    assert _logged_in_as(client) is None


def test_it_lets_the_test_client_log_in(client, alice):
    assert client.login(username="alice@example.com", password=PASSWORD)
