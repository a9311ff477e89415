"""Errors on API URLs are JSON in the API's shape, even those that never reach DRF's exception handler."""

import logging

import pytest

from programs import selectors
from tests.api.conftest import as_member

pytestmark = pytest.mark.django_db


def test_it_answers_an_uncaught_exception_with_a_json_500_and_logs_it(alice, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "member_local_today", broken)
    api = as_member(alice)
    api.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.post("/api/v1/enrolments/", {"program": "back"}, format="json")

    assert response.status_code == 500
    assert response.json() == {
        "message": "Something went wrong on our side. It is logged and we will look into it.",
        "code": "server_error",
        "errors": {},
    }
    assert response["X-Request-ID"]
    assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


def test_it_answers_an_error_while_rendering_with_a_json_500(alice, monkeypatch):
    from rest_framework.renderers import JSONRenderer

    def broken(self, *args, **kwargs):
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(JSONRenderer, "render", broken)
    api = as_member(alice)
    api.raise_request_exception = False

    response = api.get("/api/v1/me/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"


def test_it_leaves_html_500_pages_to_the_site(client, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "member_local_today", broken)
    client.force_login(alice)
    client.raise_request_exception = False

    response = client.get("/today/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
