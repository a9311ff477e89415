"""The signed-in user is read through the cache; every change to the user counts from the next request."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.cache import user_cached
from accounts.models import User
from accounts.tokens import email_verification_token
from stretchhub.cache import versioned
from tests.factories import UserFactory, build_program

SETTINGS = reverse("accounts:settings")


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    assert client.get(SETTINGS).status_code == 200  # the user is now cached
    return client


def test_it_serves_a_signed_in_page_without_reading_the_user_again(signed_in, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = signed_in.get(reverse("accounts:password_change"))
    assert response.status_code == 200
    assert "Log out" in response.content.decode()


def test_it_signs_out_a_member_deactivated_meanwhile(signed_in, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = signed_in.get(SETTINGS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_ends_the_session_when_the_password_changes_elsewhere(signed_in, alice):
    alice.set_password("a whole new secret 42")
    alice.save(update_fields=["password"])

    assert signed_in.get(SETTINGS).status_code == 302


def test_it_signs_out_a_deleted_member(signed_in, alice):
    User.objects.filter(pk=alice.pk).delete()

    assert signed_in.get(SETTINGS).status_code == 302


def test_it_sees_a_verification_made_with_a_conditional_update(client, db):
    # user_verify_email writes with QuerySet.update(), which sends no signal.
    newcomer = UserFactory(username="nina", email_verified_at=None)
    program = build_program(weeks=1, slug="loose-back")
    client.force_login(newcomer)
    enrol = reverse("programs:enrol", kwargs={"slug": program.slug})
    assert client.get(enrol)["Location"].startswith(reverse("accounts:verify_sent"))

    services.user_verify_email(token=email_verification_token(newcomer))

    assert client.get(enrol).status_code == 200


def test_it_keeps_no_copy_made_from_rows_a_transaction_was_changing(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice.display_name = "Alice Renamed"
        alice.save(update_fields=["display_name"])
        # Another request reads the user before the commit: it sees (and keeps) the old row.
        stale = User.objects.get(pk=alice.pk)
        stale.display_name = "Alice"
        versioned(
            versions=[f"accounts:user-version:{alice.pk}"],
            key=f"accounts:user:{alice.pk}",
            make=lambda: stale,
            timeout=60,
            alias="sessions",
        )
        assert user_cached(user_id=alice.pk).display_name == "Alice"

    assert user_cached(user_id=alice.pk).display_name == "Alice Renamed"


def test_it_answers_none_for_a_user_that_does_not_exist(db):
    assert user_cached(user_id=10**12) is None
