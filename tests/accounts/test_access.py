import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    ["accounts:settings", "accounts:export", "accounts:delete", "accounts:password_change", "accounts:verify_sent"],
)
def test_it_sends_anonymous_visitors_to_log_in_first(client, name):
    url = reverse(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_it_refuses_an_anonymous_resend(client):
    response = client.post(reverse("accounts:verify_resend"))

    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "name",
    ["accounts:signup", "accounts:login", "accounts:password_reset", "accounts:password_reset_done"],
)
def test_it_renders_the_public_pages_without_inline_script(client, name):
    response = client.get(reverse(name))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html
    assert " onclick=" not in html


@pytest.mark.parametrize("name", ["accounts:signup", "accounts:login", "accounts:password_reset"])
def test_it_serves_the_public_forms_without_touching_the_database(client, name, django_assert_num_queries):
    with django_assert_num_queries(0):
        client.get(reverse(name))


def test_it_serves_the_delete_page_in_a_fixed_number_of_queries(client, alice, django_assert_max_num_queries):
    client.force_login(alice)

    with django_assert_max_num_queries(2):
        assert client.get(reverse("accounts:delete")).status_code == 200
