"""Which language a page, the API and the player's script speak: ?lang=, a member's saved language,
the footer switcher, Accept-Language (docs/i18n.md)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from programs.models import Program
from tests.conftest import AxesAwareClient
from tests.factories import UserFactory

DETAIL = "/programs/lower-back-relief/"
API_DETAIL = "/api/v1/programs/lower-back-relief/"


@pytest.fixture
def program(db):
    call_command("seed_demo", "--no-logins", stdout=StringIO())
    return Program.objects.get(slug="lower-back-relief")


def _h1(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode()).group(1)


def test_a_visitor_gets_the_language_of_accept_language(program):
    assert _h1(Client().get(DETAIL, HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9")) == "Entlastung für den unteren Rücken"
    assert _h1(Client().get(DETAIL, HTTP_ACCEPT_LANGUAGE="fr-FR,en;q=0.5")) == "Lower back relief"
    response = Client().get(DETAIL)
    assert _h1(response) == "Lower back relief" and response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]


def test_lang_on_the_url_wins_and_the_page_lists_its_alternates(program):
    response = Client().get(f"{DETAIL}?lang=de", HTTP_ACCEPT_LANGUAGE="en")
    assert _h1(response) == "Entlastung für den unteren Rücken"
    page = response.content.decode()
    assert '<html lang="de">' in page
    assert f'<link rel="alternate" hreflang="en" href="http://testserver{DETAIL}?lang=en">' in page
    assert f'<link rel="alternate" hreflang="de" href="http://testserver{DETAIL}?lang=de">' in page
    assert f'<link rel="alternate" hreflang="x-default" href="http://testserver{DETAIL}">' in page
    # One URL per program in every language: the slug does not change.
    assert 'hreflang="de" href="http://testserver/programs/lower-back-relief/?lang=de"' in page


def test_private_pages_list_no_alternates(program):
    member = UserFactory()
    client = AxesAwareClient()
    client.force_login(member)
    assert "hreflang" not in client.get(reverse("programs:dashboard")).content.decode()


def test_a_member_reads_their_saved_language_whatever_the_browser_says(program):
    member = UserFactory(language="de")
    client = AxesAwareClient()
    client.force_login(member)
    response = client.get(reverse("programs:dashboard"), HTTP_ACCEPT_LANGUAGE="en-GB")
    assert response["Content-Language"] == "de"
    assert "Du folgst noch keinem Programm." in response.content.decode()


def test_the_switcher_sets_the_cookie_and_a_members_saved_language(program):
    member = UserFactory(language="en")
    client = AxesAwareClient()
    client.force_login(member)
    response = client.post(reverse("set_language"), {"language": "de", "next": f"{DETAIL}?lang=en&x=1"})
    assert response.status_code == 302
    # Back to the same page, without the ?lang= that would undo the choice.
    assert response["Location"] == f"{DETAIL}?x=1"
    member.refresh_from_db()
    assert member.language == "de"
    assert _h1(client.get(DETAIL)) == "Entlastung für den unteren Rücken"


def test_the_switcher_for_a_visitor_keeps_the_choice_in_a_cookie(program):
    client = Client()
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert _h1(client.get(DETAIL, HTTP_ACCEPT_LANGUAGE="en")) == "Entlastung für den unteren Rücken"


def test_the_switcher_needs_a_csrf_token(program):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("set_language"), {"language": "de", "next": "/"}).status_code == 403


def test_the_switcher_ignores_an_unknown_language_and_a_foreign_next(program):
    member = UserFactory(language="en")
    client = AxesAwareClient()
    client.force_login(member)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://evil.example")
    member.refresh_from_db()
    assert member.language == "en"


def test_signing_up_in_german_saves_german(program):
    Client().post(
        reverse("accounts:signup"),
        {
            "email": "lena@example.com",
            "display_name": "Lena",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "timezone": "Europe/Berlin",
        },
        HTTP_ACCEPT_LANGUAGE="de-DE",
    )
    assert User.objects.get(email="lena@example.com").language == "de"


def test_the_settings_page_changes_the_language(program):
    member = UserFactory(language="en", timezone="Europe/Berlin")
    client = AxesAwareClient()
    client.force_login(member)
    data = {"display_name": "Lena", "timezone": "Europe/Berlin", "default_reminder_time": "07:45", "language": "de"}
    assert client.post(reverse("accounts:settings"), data).status_code == 302
    member.refresh_from_db()
    assert member.language == "de"
    assert "Deine Einstellungen sind gespeichert." in client.get(reverse("accounts:settings")).content.decode()


def test_the_api_answers_in_the_language_asked_for(program, client):
    german = client.get(API_DETAIL, HTTP_ACCEPT_LANGUAGE="de-DE").json()
    assert german["title"] == "Entlastung für den unteren Rücken"
    english = client.get(API_DETAIL).json()
    assert english["title"] == "Lower back relief"
    response = client.get(f"{API_DETAIL}?lang=de", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "de" and response.json()["title"] == german["title"]
    # Each language its own cache entry and ETag.
    assert client.get(API_DETAIL, HTTP_ACCEPT_LANGUAGE="de")["ETag"] != client.get(API_DETAIL)["ETag"]


def test_the_api_errors_in_the_language_asked_for(program, client):
    response = client.get("/api/v1/programs/no-such-program/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 404
    assert response.json()["message"] == "Kein veröffentlichtes Programm hat diesen Slug."


def test_the_api_refuses_an_unknown_lang(program, client):
    response = client.get(f"{API_DETAIL}?lang=fr")
    assert response.status_code == 400
    assert response.json()["errors"] == {"lang": ["Choose lang=en or lang=de, or leave lang out."]}


def test_the_api_me_shows_and_changes_the_language(program, client):
    member = UserFactory(language="en")
    client.force_login(member)
    assert client.get("/api/v1/me/").json()["language"] == "en"
    response = client.patch("/api/v1/me/", {"language": "de"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["language"] == "de"
    bad = client.patch("/api/v1/me/", {"language": "fr"}, content_type="application/json")
    assert bad.status_code == 400 and "language" in bad.json()["errors"]
    member.refresh_from_db()
    assert member.language == "de"


def test_the_schema_documents_the_language(client, db):
    schema = client.get("/api/v1/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/programs/{slug}/"]["get"]["parameters"]
    names = {(p["in"], p["name"]) for p in parameters}
    assert {("header", "Accept-Language"), ("query", "lang")} <= names


def test_the_players_strings_come_as_a_script_in_the_pages_language(program):
    german = Client().get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="de")
    assert german["Content-Type"].startswith("text/javascript")
    assert "Seite wechseln" in german.content.decode()
    assert "Seite wechseln" not in Client().get(reverse("javascript-catalog")).content.decode()
