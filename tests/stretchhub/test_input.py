"""NUL, unpaired surrogates and bytes that are not UTF-8 are refused before any view or query sees them."""

import pytest

from accounts.models import User
from tests.api.conftest import as_member, as_partner

pytestmark = pytest.mark.django_db

MESSAGE = "The request holds characters that cannot be used here: NUL, unpaired surrogates or bytes that are not UTF-8."
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("query", ["external_id=a%00b", "external_id=%FF", "external_id=%ED%A0%80", "a%00=1"])
def test_it_answers_an_api_query_parameter_it_cannot_use_with_a_json_400(partner, query):
    response = as_partner(partner).get(f"/api/v1/partner/members/?{query}")

    assert response.status_code == 400
    assert response.json() == {"message": MESSAGE, "code": "invalid", "errors": {}}


def test_it_answers_nul_in_an_api_path_with_the_api_404(alice):
    response = as_member(alice).get("/api/v1/stretches/a%00b/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_it_answers_nul_in_a_page_path_with_404(client, db):
    # Before this check a private calendar token with NUL was a 500 on PostgreSQL.
    response = client.get("/calendar/a%00b.ics")

    assert response.status_code == 404


def test_it_answers_a_page_query_parameter_it_cannot_use_with_400(client, db):
    response = client.get("/programs/?body_area=back%00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_it_leaves_ordinary_non_ascii_query_parameters_alone(client, db):
    assert client.get("/programs/?level=d%C3%A9butant").status_code == 200


@pytest.mark.parametrize("body", [b"display_name=A%00&timezone=UTC", b"display_name=%FF&timezone=UTC"])
def test_it_refuses_a_form_it_cannot_use_and_saves_nothing(client, alice, body):
    client.force_login(alice)

    response = client.post("/accounts/settings/", body + b"&default_reminder_time=08:00", content_type=FORM)

    assert response.status_code == 400
    assert User.objects.get(pk=alice.pk).display_name == "Alice"


def test_it_refuses_nul_in_a_multipart_form(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/settings/", {"display_name": "A\x00", "timezone": "UTC", "default_reminder_time": "08:00"}
    )

    assert response.status_code == 400
    assert User.objects.get(pk=alice.pk).display_name == "Alice"


def test_it_still_saves_a_clean_form(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/settings/", "display_name=Al%C3%AFce&timezone=UTC&default_reminder_time=08:00", content_type=FORM
    )

    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).display_name == "Alïce"


def test_it_ignores_a_session_cookie_holding_nul(client, db):
    # Quoted cookies may carry octal escapes, so "\000" reaches Django as NUL; the session
    # store then looked it up in the database (a 500 on PostgreSQL).
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"

    response = client.get("/today/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
