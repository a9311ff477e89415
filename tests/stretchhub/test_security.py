"""Security checks that must keep holding as pages are added."""

import base64
import hashlib
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from programs.models import Stretch
from tests.conftest import AxesAwareClient
from tests.factories import PASSWORD, BodyAreaFactory

from .production import production_settings

pytestmark = pytest.mark.django_db

HTTPS = {"headers": {"X-Forwarded-Proto": "https"}}


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Login tests hash many passwords; the hasher's cost is not what they test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# -- every URL that could take a form ---------------------------------------------

_GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()\\]|\\.)*)\)")
_SAMPLES = ("1", "x", "00000000-0000-0000-0000-000000000000")


def _sample(group_regex: str) -> str:
    alternatives = group_regex.split("|") if re.fullmatch(r"[\w|-]+", group_regex) else []
    for candidate in (*alternatives, *_SAMPLES):
        if re.fullmatch(group_regex, candidate):
            return candidate
    raise AssertionError(f"no sample value for the URL parameter pattern {group_regex!r}; add one to _SAMPLES")


def _concrete_path(regex: str) -> str:
    path = _GROUP.sub(lambda match: _sample(match.group(2)), regex)
    path = path.removeprefix("^").removesuffix(r"\Z").removesuffix("$")
    return re.sub(r"\\(.)", r"\1", path)


def _all_urls(patterns=None, prefix=""):
    """One concrete path per URL pattern of the project, with the view it resolves to."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        part = _concrete_path(pattern.pattern.regex.pattern)
        if isinstance(pattern, URLResolver):
            yield from _all_urls(pattern.url_patterns, prefix + part)
        else:
            assert isinstance(pattern, URLPattern)
            yield "/" + prefix + part, pattern


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


# Views that take POSTs without Django's CSRF token, and why that is safe.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail providers POST from their servers.
    # The signed token in the URL is the authorisation; it only switches mail off.
    "unsubscribe",
    # The same one-click POST for nudges, weekly summaries and trainer digests.
    "preference_off",
}


def test_it_resolves_a_concrete_url_for_every_pattern():
    for path, pattern in _all_urls():
        assert resolve(path).func == pattern.callback, path


def test_it_refuses_a_post_without_csrf_token_on_every_page(alice, caplog):
    client = AxesAwareClient(enforce_csrf_checks=True)
    client.force_login(alice)
    checked = []

    for path, pattern in _all_urls():
        if _is_api(path):
            continue
        if getattr(pattern.callback, "csrf_exempt", False):
            assert pattern.name in CSRF_EXEMPT, f"{path} is csrf_exempt; say why in CSRF_EXEMPT or protect it"
            continue
        caplog.clear()

        response = client.post(path, {"anything": "1"})

        assert response.status_code == 403, path
        assert any(r.name == "django.security.csrf" for r in caplog.records), path
        checked.append(path)

    # The member pages that write are among them (a sanity check on the walk).
    for name in ["accounts:login", "accounts:settings", "accounts:delete", "programs:dashboard"]:
        assert reverse(name) in checked
    assert "/enrolments/1/sessions/1/tick/" in checked
    assert "/admin/programs/stretch/add/" in checked


def test_it_refuses_api_writes_from_a_browser_session_without_csrf_token(alice):
    client = AxesAwareClient(enforce_csrf_checks=True)
    client.force_login(alice)

    for path, pattern in _all_urls():
        if not _is_api(path) or pattern.name == "token":
            continue

        response = client.post(path, {}, content_type="application/json")

        # 403: the session was refused for want of a token; 401: the view takes
        # no browser session at all; 405: it takes no POST; 404: a URL pattern
        # that matches nothing at this sample path (the router's format suffix).
        assert response.status_code in (401, 403, 404, 405), path
        assert response.status_code != 404 or not pattern.name, path
    response = client.post(reverse("api:enrolment-list"), {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()


def test_it_accepts_the_same_post_with_the_token(alice):
    client = AxesAwareClient(enforce_csrf_checks=True)
    client.force_login(alice)
    token = client.get(reverse("accounts:settings")).context["csrf_token"]

    response = client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": str(token)})

    assert response.status_code == 302


# -- headers and cookies ------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: values for name, *values in directives}


def test_it_sends_a_content_security_policy_without_inline_script(client):
    policy = _csp(client.get("/"))

    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_it_allows_exactly_the_inline_style_of_the_api_docs_page(client):
    response = client.get(reverse("api:docs"))

    (style,) = re.findall(rb"<style>(.*?)</style>", response.content, re.S)
    digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
    assert f"'sha256-{digest}'" in _csp(response)["style-src"]
    assert not re.search(rb"<script>", response.content), "inline script on the docs page"


def test_it_sends_the_other_protective_headers(client):
    response = client.get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.fixture
def production_https():
    values = production_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
    )
    with override_settings(**values):
        yield values


def test_it_redirects_plain_http_to_https_in_production(client, production_https):
    response = client.get("/programs/?level=1")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/programs/?level=1"


def test_it_sends_hsts_over_https_in_production(client, production_https):
    response = client.get("/", **HTTPS)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_it_marks_session_and_csrf_cookies_secure_httponly_and_same_site_in_production(client, alice, production_https):
    client.get(reverse("accounts:login"), **HTTPS)
    csrf_cookie = client.cookies[settings.CSRF_COOKIE_NAME]

    response = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf_cookie.value},
        **HTTPS,
    )

    assert response.status_code == 302
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] is True
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    assert csrf_cookie["secure"] is True
    assert csrf_cookie["httponly"] is True
    assert csrf_cookie["samesite"] == "Lax"


# -- login -------------------------------------------------------------------------


def _login(client, username, password, **data):
    return client.post(reverse("accounts:login"), {"username": username, "password": password, **data})


def test_it_locks_a_login_out_across_separate_sessions_and_processes(alice):
    # Every attempt from a fresh client, as if each landed on another gunicorn
    # worker: the count lives in the database they share, not in a process.
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(AxesAwareClient(), "alice", "wrong")
    assert AccessAttempt.objects.get().failures_since_start == settings.AXES_FAILURE_LIMIT
    client = AxesAwareClient()

    response = _login(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https:evil.example",
        " https://evil.example/",
        "javascript:alert(1)",
        "http://testserver/today/",  # our host, but downgraded from https
    ],
)
def test_it_never_redirects_off_site_after_login_over_https(client, alice, next_url):
    response = client.post(
        reverse("accounts:login"), {"username": "alice", "password": PASSWORD, "next": next_url}, **HTTPS
    )

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_it_escapes_the_next_parameter_on_the_login_page(client):
    response = client.get(reverse("accounts:login"), {"next": '/today/"><script>alert(1)</script>'})

    assert b"<script>alert(1)</script>" not in response.content


# -- admin -------------------------------------------------------------------------


def test_it_keeps_members_out_of_the_admin(client, alice, bob):
    client.force_login(alice)
    admin_paths = [
        path
        for path, _ in _all_urls()
        if path.startswith("/admin/") and path not in ("/admin/login/", "/admin/logout/")
    ]

    for path in admin_paths:
        response = client.get(path)

        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
        assert bob.email.encode() not in response.content


def test_it_refuses_a_member_at_the_admin_login(client, alice):
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302


# -- media URLs ----------------------------------------------------------------------

DANGEROUS_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]


@pytest.mark.parametrize("url", DANGEROUS_URLS)
def test_it_refuses_a_script_media_url_on_the_model(url):
    stretch = Stretch(media_url=url)

    with pytest.raises(Exception) as error:
        stretch.full_clean()

    assert "media_url" in error.value.message_dict


@pytest.fixture
def trainer_client(trainer):
    client = AxesAwareClient()
    client.force_login(trainer)
    return client


def _stretch_form(media_url: str) -> dict:
    return {
        "name_en": "Cat-cow",
        "slug": "cat-cow-test",
        "status": "draft",
        "summary_en": "Round and arch the back.",
        "steps_en": "Kneel on all fours.\nRound the back.",
        "media_url": media_url,
        "body_areas": [BodyAreaFactory().pk],
        "position": "all_fours",
        "equipment": "none",
        "difficulty": "1",
        "default_sets": "1",
        "default_reps": "8",
        # The pictures inline, empty.
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
    }


@pytest.mark.parametrize("url", DANGEROUS_URLS)
def test_it_refuses_a_script_media_url_in_the_admin(trainer_client, url):
    response = trainer_client.post("/admin/programs/stretch/add/", _stretch_form(url))

    assert response.status_code == 200
    assert "media_url" in response.context["adminform"].form.errors
    assert not Stretch.objects.filter(slug="cat-cow-test").exists()


def test_it_accepts_an_https_media_url_in_the_admin(trainer_client):
    response = trainer_client.post("/admin/programs/stretch/add/", _stretch_form("https://video.example/cat-cow"))

    assert response.status_code == 302
    assert Stretch.objects.get(slug="cat-cow-test").media_url == "https://video.example/cat-cow"
