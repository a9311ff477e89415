import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages

from accounts.api.services import api_token_create
from accounts.models import APIToken, PartnerAPIKey
from programs.reminders.services import reminder_schedule_refresh
from tests.factories import EnrolmentFactory, PartnerFactory, UserFactory, build_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_it_shows_a_new_partner_key_once_and_stores_it_hashed(admin_client, partner):
    response = admin_client.post(
        "/admin/accounts/partnerapikey/add/", {"name": "Server", "partner": partner.pk}, follow=True
    )

    assert response.status_code == 200
    message = " ".join(str(m) for m in get_messages(response.wsgi_request))
    raw = re.search(r"The API key for Server is: (\S+)\.", message).group(1)
    key = PartnerAPIKey.objects.get(partner=partner)
    assert raw.startswith(key.prefix + ".")
    assert raw not in key.hashed_key and raw not in key.id
    assert PartnerAPIKey.objects.get_from_key(raw) == key
    # Shown once: the key's own page never contains it.
    assert raw not in admin_client.get(f"/admin/accounts/partnerapikey/{key.pk}/change/").content.decode()


def test_it_revokes_keys_from_the_list(admin_client, partner):
    key, raw = PartnerAPIKey.objects.create_key(name="Old", partner=partner)

    admin_client.post(
        "/admin/accounts/partnerapikey/", {"action": "revoke_keys", "_selected_action": [key.pk]}, follow=True
    )

    key.refresh_from_db()
    assert key.revoked
    assert not PartnerAPIKey.objects.is_valid(raw)


def test_it_lists_partners_with_their_keys_and_members(admin_client, partner, django_assert_max_num_queries):
    for n in range(3):
        PartnerAPIKey.objects.create_key(name=f"k{n}", partner=PartnerFactory())
        UserFactory(partner=partner, external_id=f"m{n}")

    with django_assert_max_num_queries(8):
        response = admin_client.get("/admin/accounts/partner/")
    assert response.status_code == 200

    page = admin_client.get(f"/admin/accounts/partner/{partner.pk}/change/")
    assert page.status_code == 200


def test_it_shows_last_use_on_the_key_list(admin_client, partner):
    PartnerAPIKey.objects.create_key(name="Used", partner=partner)

    content = admin_client.get("/admin/accounts/partnerapikey/").content.decode()

    assert "Last used" in content or "last used" in content


def _user_form_data(admin_client, user, **changes) -> dict:
    """What the admin's user change form posts back unchanged, with `changes` on top."""
    form = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": user.username,
            "email": user.email,
            "timezone": user.timezone,
            "default_reminder_time": "08:00",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00",
            "api_tokens-TOTAL_FORMS": "0",
            "api_tokens-INITIAL_FORMS": "0",
            "api_tokens-MIN_NUM_FORMS": "0",
            "api_tokens-MAX_NUM_FORMS": "1000",
        }
    )
    for name in ("password", "groups", "user_permissions", "last_login"):
        data.pop(name, None)
    data.update(changes)
    return data


def test_it_lists_and_revokes_member_tokens_on_the_user_page(admin_client, alice):
    token, _raw = api_token_create(user=alice)

    page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert token.prefix in page.content.decode()

    data = _user_form_data(
        admin_client,
        alice,
        **{
            "api_tokens-TOTAL_FORMS": "1",
            "api_tokens-INITIAL_FORMS": "1",
            "api_tokens-0-id": token.pk,
            "api_tokens-0-user": alice.pk,
            "api_tokens-0-DELETE": "on",
        },
    )
    response = admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert not APIToken.objects.exists()


def test_a_new_timezone_set_in_the_admin_moves_the_next_reminder_to_its_local_time(admin_client, alice, time_machine):
    # Tuesday 10 March 2026, noon in Berlin, 07:00 in New York (EDT since 8 March); a session every day.
    time_machine.move_to(dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC), tick=False)
    program = build_program(weeks=1, days=(1, 2, 3, 4, 5, 6, 7))
    enrolment = EnrolmentFactory(member=alice, program=program, start_date=dt.date(2026, 3, 9))
    reminder_schedule_refresh(enrolments=[enrolment])
    enrolment.refresh_from_db()
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    data = _user_form_data(admin_client, alice, timezone="America/New_York", default_reminder_time="08:00")
    response = admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    alice.refresh_from_db()
    assert alice.timezone == "America/New_York"
    enrolment.refresh_from_db()
    # Today's 08:00 is still ahead in New York.
    assert enrolment.next_reminder_at == dt.datetime(2026, 3, 10, 8, 0, tzinfo=ZoneInfo("America/New_York"))


def test_it_hides_the_librarys_partnerless_key_model(admin_client):
    assert admin_client.get("/admin/rest_framework_api_key/apikey/").status_code == 404


def test_it_keeps_members_out_of_the_key_admin(client, alice):
    client.force_login(alice)

    response = client.get("/admin/accounts/partnerapikey/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
