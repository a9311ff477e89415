import base64
import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.emails import verification_url
from accounts.tokens import email_verification_token
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"(https?://\S+/accounts/verify/[^/\s]+/)")


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", email="carol@example.com", email_verified_at=None)


def _path(user):
    return reverse("accounts:verify", kwargs={"token": email_verification_token(user)})


def test_it_puts_an_absolute_link_from_site_url_in_both_parts_of_the_email(client, settings):
    settings.SITE_URL = "https://stretch.example"
    client.post(
        "/accounts/signup/",
        {
            "email": "carol@example.com",
            "display_name": "Carol",
            "password1": "a-long-stretchy-secret",
            "password2": "a-long-stretchy-secret",
            "timezone": "UTC",
        },
    )
    message = mail.outbox[0]
    link = LINK.search(message.body).group(1)
    assert link.startswith("https://stretch.example/accounts/verify/")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html


def test_it_shows_a_button_on_get_and_changes_nothing(client, carol):
    response = client.get(_path(carol))

    assert response.status_code == 200
    assert "Confirm my email address" in response.content.decode()
    carol.refresh_from_db()
    assert carol.email_verified_at is None


def test_it_verifies_on_post(client, carol):
    response = client.post(_path(carol))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    carol.refresh_from_db()
    assert carol.email_verified_at is not None


def test_it_sends_the_logged_in_member_to_their_dashboard(client, carol):
    client.force_login(carol)

    response = client.post(_path(carol))

    assert response["Location"] == reverse("programs:dashboard")


def test_it_refuses_a_tampered_link(client, carol):
    token = email_verification_token(carol)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    for method in (client.get, client.post):
        response = method(reverse("accounts:verify", kwargs={"token": tampered}))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    carol.refresh_from_db()
    assert carol.email_verified_at is None


def test_it_refuses_an_expired_link(client, carol):
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), tick=False):
        path = _path(carol)
    with time_machine.travel(dt.datetime(2026, 5, 4, 12, 1, tzinfo=dt.UTC), tick=False):
        response = client.post(path)

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    carol.refresh_from_db()
    assert carol.email_verified_at is None


def test_it_accepts_a_link_just_before_it_expires(client, carol):
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), tick=False):
        path = _path(carol)
    with time_machine.travel(dt.datetime(2026, 5, 4, 11, 59, tzinfo=dt.UTC), tick=False):
        client.post(path)

    carol.refresh_from_db()
    assert carol.email_verified_at == dt.datetime(2026, 5, 4, 11, 59, tzinfo=dt.UTC)


def test_it_refuses_a_link_sent_to_a_previous_address(client, carol):
    path = _path(carol)
    carol.email = "carol@new.example"
    carol.save()

    response = client.post(path)

    assert response.status_code == 400
    carol.refresh_from_db()
    assert carol.email_verified_at is None


def test_it_keeps_the_first_verification_time_when_used_again(client, carol):
    path = _path(carol)
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), tick=False):
        path = _path(carol)
        client.post(path)
    with time_machine.travel(dt.datetime(2026, 5, 2, 12, tzinfo=dt.UTC), tick=False):
        response = client.get(path)
        assert "already confirmed" in response.content.decode()
        response = client.post(path, follow=True)

    assert "already confirmed" in response.content.decode()
    carol.refresh_from_db()
    assert carol.email_verified_at == dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


def test_it_resends_the_link_once_a_minute_at_most(client, carol):
    client.force_login(carol)

    # Frozen: the link carries a timestamp, so it is only comparable within one second.
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC), tick=False):
        client.post(reverse("accounts:verify_resend"))
        response = client.post(reverse("accounts:verify_resend"), follow=True)
        expected_url = verification_url(carol)

    assert len(mail.outbox) == 1
    assert LINK.search(mail.outbox[0].body).group(1) == expected_url
    assert "less than a minute ago" in response.content.decode()


def test_it_does_not_resend_to_a_verified_member(client, alice):
    client.force_login(alice)

    response = client.post(reverse("accounts:verify_resend"), follow=True)

    assert mail.outbox == []
    assert "already confirmed" in response.content.decode()


def test_it_only_resends_on_post(client, carol):
    client.force_login(carol)

    assert client.get(reverse("accounts:verify_resend")).status_code == 405
    assert mail.outbox == []


def test_it_shows_the_inbox_page_until_verified(client, carol):
    client.force_login(carol)

    response = client.get(reverse("accounts:verify_sent"))
    assert "carol@example.com" in response.content.decode()

    client.post(_path(carol))
    response = client.get(reverse("accounts:verify_sent"))
    assert response["Location"] == reverse("programs:dashboard")


def test_it_keeps_the_address_out_of_the_link(carol):
    payload = email_verification_token(carol).split(":")[0]

    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))

    assert b"carol" not in decoded.lower()


def test_it_lets_an_unverified_member_log_in(client, carol):
    response = client.post(reverse("accounts:login"), {"username": "carol@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == carol.pk


def test_it_ignores_a_next_that_is_not_a_path(client, alice):
    # redirect() reads "a:b" as a URL name; reversing an unknown one was a 500.
    client.force_login(alice)

    response = client.post(reverse("accounts:verify_resend"), {"next": "08:00"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:verify_sent")
