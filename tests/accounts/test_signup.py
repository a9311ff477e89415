import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

SIGNUP = "/accounts/signup/"


def _data(**overrides):
    data = {
        "email": "Carol@Example.com",
        "display_name": "Carol",
        "password1": "a-long-stretchy-secret",
        "password2": "a-long-stretchy-secret",
        "timezone": "Europe/Paris",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_it_shows_the_form_with_a_timezone_select_and_the_script(client):
    response = client.get(SIGNUP)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_email">Email address</label>' in html
    assert 'data-suggest-browser-timezone="replace"' in html
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in html
    assert "js/timezone.js" in html
    assert "<script>" not in html


@pytest.mark.django_db
def test_it_creates_an_unverified_member_logs_them_in_and_sends_the_link(client):
    response = client.post(SIGNUP, _data())

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:verify_sent")
    user = User.objects.get(email="Carol@example.com")
    assert user.username == "carol"
    assert user.display_name == "Carol"
    assert user.timezone == "Europe/Paris"
    assert user.email_verified_at is None
    assert user.check_password("a-long-stretchy-secret")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["Carol@example.com"]
    assert re.search(r"https?://\S+/accounts/verify/[^/\s]+/", mail.outbox[0].body)


@pytest.mark.django_db
def test_it_refuses_an_email_already_used_whatever_its_case(client):
    UserFactory(username="carol", email="carol@example.com")

    response = client.post(SIGNUP, _data(email="CAROL@EXAMPLE.COM"))

    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["email"][0]
    assert User.objects.filter(email__iexact="carol@example.com").count() == 1
    assert mail.outbox == []


@pytest.mark.django_db
def test_it_refuses_an_unknown_timezone(client):
    response = client.post(SIGNUP, _data(timezone="Mars/Olympus_Mons"))

    assert response.status_code == 200
    assert "not a known time zone" in response.context["form"].errors["timezone"][0]
    assert not User.objects.filter(email__iexact="carol@example.com").exists()


@pytest.mark.django_db
def test_it_accepts_a_legacy_alias_a_browser_may_report(client):
    client.post(SIGNUP, _data(timezone="Asia/Calcutta"))

    assert User.objects.get(email__iexact="carol@example.com").timezone == "Asia/Calcutta"


@pytest.mark.parametrize(
    "password",
    ["short", "password123", "12345678901", "carolexample"],
    ids=["too-short", "common", "numeric", "like-the-email"],
)
@pytest.mark.django_db
def test_it_refuses_a_weak_password(client, password):
    response = client.post(SIGNUP, _data(password1=password, password2=password))

    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_two_different_passwords(client):
    response = client.post(SIGNUP, _data(password2="another-long-secret"))

    assert response.context["form"].errors["password2"] == ["The two passwords differ."]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_shows_errors_next_to_their_fields(client):
    response = client.post(SIGNUP, _data(email="not-an-email", display_name=""))

    html = response.content.decode()
    assert 'id="id_email_error"' in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="id_display_name_error"' in html


@pytest.mark.django_db
def test_it_numbers_the_username_when_the_local_part_is_taken(client):
    UserFactory(username="carol", email="carol@elsewhere.example")

    client.post(SIGNUP, _data())

    assert User.objects.get(email__iexact="carol@example.com").username == "carol2"


@pytest.mark.django_db
def test_it_keeps_a_safe_next_and_drops_an_offsite_one(client):
    response = client.post(SIGNUP + "?next=/programs/back/", _data())
    assert response["Location"] == reverse("accounts:verify_sent") + "?next=%2Fprograms%2Fback%2F"

    client.logout()
    response = client.post(SIGNUP + "?next=https://evil.example/", _data(email="dan@example.com"))
    assert response["Location"] == reverse("accounts:verify_sent")


@pytest.mark.django_db
def test_it_sends_a_logged_in_member_away_from_the_form(client, alice):
    client.force_login(alice)

    response = client.get(SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("programs:dashboard")


@pytest.mark.django_db
def test_it_limits_sign_ups_from_one_address_and_keeps_the_form(client, settings):
    settings.ACCOUNT_SIGNUP_RATE = "2/hour"
    for n in range(2):
        assert client.post(SIGNUP, _data(email=f"carol{n}@example.com")).status_code == 302
        client.logout()

    response = client.post(SIGNUP, _data(email="carol9@example.com"))

    assert response.status_code == 429
    assert "Too many attempts from here. Please try again in" in response.content.decode()
    assert response.context["form"]["email"].value() == "carol9@example.com"
    assert not User.objects.filter(email="carol9@example.com").exists()
    assert len(mail.outbox) == 2
    # Another address still signs up.
    assert client.post(SIGNUP, _data(email="dan@example.com"), REMOTE_ADDR="203.0.113.9").status_code == 302


@pytest.mark.django_db
def test_it_does_not_count_a_form_with_mistakes_against_the_limit(client, settings):
    settings.ACCOUNT_SIGNUP_RATE = "1/hour"
    assert client.post(SIGNUP, _data(password2="a-typo")).status_code == 200

    assert client.post(SIGNUP, _data()).status_code == 302
