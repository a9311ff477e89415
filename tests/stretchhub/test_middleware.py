import io
import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What Django's configured console handler writes, captured instead of printed."""
    (handler,) = (h for h in logging.getLogger().handlers if h.get_name() == "console")
    captured = io.StringIO()
    original = handler.setStream(captured)
    yield lambda: captured.getvalue().splitlines()
    handler.setStream(original)


def test_it_gives_every_response_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


def test_it_keeps_the_request_id_of_the_proxy_in_front(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.91:2"})

    assert response["X-Request-ID"] == "lb-7f3a.91:2"


@pytest.mark.parametrize("forged", ["abc\nINFO fake log line", "x" * 129, "<script>", ""])
def test_it_replaces_a_request_id_that_could_forge_log_lines(client, forged):
    response = client.get("/healthz", headers={"X-Request-ID": forged})

    assert response["X-Request-ID"] != forged
    assert len(response["X-Request-ID"]) == 32


def test_it_tags_log_lines_with_the_request_id(client, log_lines):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 404
    assert any("[req-42] django.request Not Found: /no-such-page/" in line for line in log_lines())


def test_it_tags_log_lines_after_the_request_with_a_dash(client, log_lines):
    client.get("/healthz", headers={"X-Request-ID": "req-43"})

    logging.getLogger("django.request").warning("between requests")

    assert log_lines()[-1].endswith("[-] django.request between requests")
