import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"(https?://\S+/accounts/password/reset/[^/\s]+/[^/\s]+/)")


def _reset_link(settings_site_url: str) -> str:
    link = RESET_LINK.search(mail.outbox[-1].body).group(1)
    assert link.startswith(settings_site_url)
    return link[len(settings_site_url) :]


def test_it_resets_a_forgotten_password_from_the_emailed_link(client, alice, settings):
    settings.SITE_URL = "https://stretch.example"

    response = client.post(reverse("accounts:password_reset"), {"email": "ALICE@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your StretchHub password"
    path = _reset_link(settings.SITE_URL)
    assert f'href="https://stretch.example{path}"' in message.alternatives[0][0]

    # Django swaps the token for a session marker and redirects to a set-password URL.
    response = client.get(path)
    assert response.status_code == 302
    set_password_url = response["Location"]
    response = client.get(set_password_url)
    assert response.context["validlink"]

    response = client.post(
        set_password_url, {"new_password1": "new-stretchy-secret", "new_password2": "new-stretchy-secret"}
    )

    assert response["Location"] == reverse("accounts:password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password("new-stretchy-secret")
    assert int(client.session["_auth_user_id"]) == alice.pk
    client.logout()
    assert client.get(path, follow=True).context["validlink"] is False
    assert client.login(username="alice", password="new-stretchy-secret")


def test_it_says_the_same_for_an_unknown_address_and_sends_nothing(client, alice):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_it_builds_reset_links_from_site_url_not_the_host_header(client, alice, settings):
    settings.SITE_URL = "https://stretch.example"
    settings.ALLOWED_HOSTS = ["*"]

    client.post(reverse("accounts:password_reset"), {"email": "alice@example.com"}, HTTP_HOST="evil.example")

    assert "evil.example" not in mail.outbox[0].body
    assert RESET_LINK.search(mail.outbox[0].body).group(1).startswith("https://stretch.example/")


def test_it_confirms_the_email_and_lifts_a_lockout_after_a_reset(client, settings):
    carol = UserFactory(username="carol", email="carol@example.com", email_verified_at=None)
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "carol", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="carol").exists()

    client.post(reverse("accounts:password_reset"), {"email": "carol@example.com"})
    set_password_url = client.get(_reset_link(settings.SITE_URL))["Location"]
    client.post(set_password_url, {"new_password1": "new-stretchy-secret", "new_password2": "new-stretchy-secret"})
    client.logout()

    carol.refresh_from_db()
    assert carol.email_verified_at is not None
    assert not AccessAttempt.objects.filter(username="carol").exists()
    response = client.post(reverse("accounts:login"), {"username": "carol", "password": "new-stretchy-secret"})
    assert response.status_code == 302


def test_it_refuses_a_weak_new_password(client, alice, settings):
    client.post(reverse("accounts:password_reset"), {"email": "alice@example.com"})
    set_password_url = client.get(_reset_link(settings.SITE_URL))["Location"]

    response = client.post(set_password_url, {"new_password1": "12345678", "new_password2": "12345678"})

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_changes_the_password_and_keeps_the_member_logged_in(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "new-stretchy-secret", "new_password2": "new-stretchy-secret"},
    )

    assert response["Location"] == reverse("accounts:password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("new-stretchy-secret")
    assert int(client.session["_auth_user_id"]) == alice.pk


def test_it_refuses_a_change_with_the_wrong_current_password(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": "new-stretchy-secret", "new_password2": "new-stretchy-secret"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_limits_reset_emails_per_inbox_whoever_asks_and_says_so(client, alice, settings):
    settings.ACCOUNT_PASSWORD_RESET_EMAIL_RATE = "2/hour"
    url = reverse("accounts:password_reset")
    for address in ("198.51.100.1", "198.51.100.2"):
        assert client.post(url, {"email": "alice@example.com"}, REMOTE_ADDR=address).status_code == 302

    response = client.post(url, {"email": "ALICE@example.com"}, REMOTE_ADDR="198.51.100.3")

    assert response.status_code == 429
    assert "Too many attempts from here. Please try again in" in response.content.decode()
    assert len(mail.outbox) == 2


def test_it_limits_reset_requests_from_one_address_known_or_not(client, alice, settings):
    settings.ACCOUNT_PASSWORD_RESET_RATE = "2/hour"
    url = reverse("accounts:password_reset")
    assert client.post(url, {"email": "nobody@example.com"}).status_code == 302
    assert client.post(url, {"email": "someone@example.com"}).status_code == 302

    assert client.post(url, {"email": "alice@example.com"}).status_code == 429
    assert mail.outbox == []
