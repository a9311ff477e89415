"""JSON bodies the API cannot store or answer safely are a 400 in the API's error shape, and change nothing."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(alice):
    from tests.api.conftest import as_member

    return as_member(alice)


def patch_me(api, body: str | bytes):
    return api.generic("PATCH", "/api/v1/me/", body, content_type="application/json")


def assert_unchanged(alice) -> None:
    assert User.objects.values_list("display_name", "timezone").get(pk=alice.pk) == ("Alice", "Europe/Berlin")


def assert_refused(response, alice, message_part: str) -> None:
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert message_part in body["message"]
    assert body["errors"] == {}
    assert_unchanged(alice)


def assert_field_refused(response, alice, field: str) -> None:
    assert response.status_code == 400
    assert response.json() == {
        "message": f"Check these fields: {field}.",
        "code": "invalid",
        "errors": {field: ["Text may not hold NUL characters or unpaired surrogates."]},
    }
    assert_unchanged(alice)


def test_it_refuses_a_body_nested_past_the_recursion_limit(alice_api, alice):
    response = patch_me(alice_api, "[" * 100_000 + "]" * 100_000)

    assert_refused(response, alice, "nested too deeply")


def test_it_refuses_a_body_nested_deeper_than_any_request_needs(alice_api, alice):
    response = patch_me(alice_api, '{"display_name": ' + "[" * 20 + "]" * 20 + "}")

    assert_refused(response, alice, "nested too deeply")


def test_it_refuses_a_lone_surrogate_without_echoing_it(alice_api, alice):
    # The time zone's own error quotes the value: it crashed encoding the surrogate (a 500).
    response = patch_me(alice_api, '{"timezone": "\\ud800"}')

    assert_field_refused(response, alice, "timezone")


def test_it_refuses_a_lone_surrogate_in_a_field_name(alice_api, alice):
    response = patch_me(alice_api, '{"\\udc00": "x"}')

    assert_refused(response, alice, "unpaired surrogates")
    assert "\\udc00" not in response.content.decode()


def test_it_takes_a_surrogate_pair_as_the_character_it_encodes(alice_api, alice):
    response = patch_me(alice_api, '{"display_name": "Alice \\ud83d\\ude00"}')

    assert response.status_code == 200
    assert response.json()["display_name"] == "Alice \U0001f600"


def test_it_refuses_nul_in_nested_text(alice_api, alice):
    response = patch_me(alice_api, '{"display_name": ["ok", {"a": "b\\u0000"}]}')

    assert_field_refused(response, alice, "display_name")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_it_refuses_non_numbers(alice_api, alice, literal):
    response = patch_me(alice_api, f'{{"display_name": {literal}}}')

    assert_refused(response, alice, "finite number")


def test_it_refuses_a_number_too_large_for_a_float(alice_api, alice):
    response = patch_me(alice_api, '{"display_name": 1e400}')

    assert_refused(response, alice, "finite number")


def test_it_refuses_an_integer_of_thousands_of_digits(alice_api, alice):
    response = patch_me(alice_api, '{"display_name": ' + "9" * 5000 + "}")

    assert_refused(response, alice, "too long")


def test_it_refuses_bytes_that_are_not_utf8(alice_api, alice):
    response = patch_me(alice_api, b'{"display_name": "\xff\xfe"}')

    assert_refused(response, alice, "not valid utf-8")


def test_it_answers_a_body_over_the_upload_limit_with_413(alice_api, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = patch_me(alice_api, '{"display_name": "' + "a" * 1000 + '"}')

    assert response.status_code == 413
    assert response.json() == {"message": "The request body is too large.", "code": "too_large", "errors": {}}
