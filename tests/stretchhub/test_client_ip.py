import pytest
from django.test import Client, RequestFactory

from stretchhub.client_ip import client_ip
from tests.factories import PASSWORD

PROXY = "10.0.0.2"


def _request(forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers)


def test_it_uses_the_peer_address_when_no_proxy_is_trusted(settings):
    settings.NUM_PROXIES = 0
    assert client_ip(_request("198.51.100.9")) == PROXY


def test_it_takes_the_address_our_proxy_saw(settings):
    settings.NUM_PROXIES = 1
    # The client forged the first entry; our proxy appended the real one.
    assert client_ip(_request("6.6.6.6, 198.51.100.9")) == "198.51.100.9"


def test_it_falls_back_to_the_peer_without_the_header(settings):
    settings.NUM_PROXIES = 1
    assert client_ip(_request()) == PROXY


@pytest.mark.django_db
def test_it_locks_out_one_client_behind_the_proxy_not_everyone(settings, alice):
    settings.NUM_PROXIES = 1
    attacker, member = Client(), Client()

    def login(client, address, password):
        return client.post(
            "/accounts/login/",
            {"username": "alice", "password": password},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address,
        )

    for _ in range(5):
        login(attacker, "198.51.100.66", "wrong")
    assert login(attacker, "198.51.100.66", PASSWORD).status_code == 429

    response = login(member, "198.51.100.9", PASSWORD)

    assert response.status_code == 302
    assert member.session.get("_auth_user_id") == str(alice.pk)
