import json
import re

import pytest

from .production import production_env, production_settings, run_manage


def test_it_passes_the_deployment_check_with_nothing_to_report():
    result = run_manage("check", "--deploy", env=production_env())

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "System check identified no issues (0 silenced).\n"


@pytest.mark.parametrize(
    "name", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "MEDIA_S3_BUCKET", "VAPID_PRIVATE_KEY"]
)
def test_it_refuses_to_start_in_production_without_a_required_setting(name):
    result = run_manage("check", env=production_env(**{name: None}))

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert name in last_line


def test_it_turns_every_https_protection_on_in_production():
    settings = production_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
    )

    assert settings == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
    }


def test_it_shares_a_cache_that_answers_misses_when_redis_is_down_in_production():
    settings = production_settings("CACHES", "SESSION_ENGINE")

    assert settings["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert settings["CACHES"]["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    assert settings["CACHES"]["heartbeat"]["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert settings["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"


def test_it_refuses_to_start_in_production_without_the_cache_url():
    result = run_manage("check", env=production_env(REDIS_URL=None))

    assert result.returncode != 0
    assert "Set REDIS_URL" in result.stderr


def test_it_reuses_database_connections_in_production():
    settings = production_settings("DATABASES")

    assert settings["DATABASES"]["default"]["CONN_MAX_AGE"] > 0
    assert settings["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True


def test_it_collects_hashed_compressed_static_files_without_a_database_or_real_secret(tmp_path):
    # What the Dockerfile does at build time: no database, a throwaway key.
    env = production_env(
        DJANGO_SECRET_KEY="collectstatic-build-time-only",
        DATABASE_URL="postgres://nobody@build.invalid:5432/none",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )

    result = run_manage("collectstatic", "--noinput", env=env, timeout=300)

    assert result.returncode == 0, result.stderr
    hashed_name = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]["admin/css/base.css"]
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", hashed_name)
    assert (tmp_path / hashed_name).is_file()
    assert (tmp_path / f"{hashed_name}.gz").is_file()


def test_it_stores_media_in_the_bucket_and_reads_them_from_its_public_address_in_production():
    settings = production_settings(
        "STORAGES", "MEDIA_ORIGIN", "MEDIA_SERVED_BY_DJANGO", MEDIA_S3_ENDPOINT_URL="http://media:8333"
    )

    options = settings["STORAGES"]["default"]["OPTIONS"]
    assert settings["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "stretchhub-media"
    assert options["endpoint_url"] == "http://media:8333" and options["addressing_style"] == "path"
    assert (options["url_protocol"], options["custom_domain"]) == ("https:", "media.stretchhub.example")
    # Unsigned URLs that never expire (emails are read days later), objects never overwritten.
    assert options["querystring_auth"] is False and options["file_overwrite"] is False
    assert options["object_parameters"] == {"CacheControl": "public, max-age=31536000, immutable"}
    assert settings["MEDIA_ORIGIN"] == "https://media.stretchhub.example"
    assert settings["MEDIA_SERVED_BY_DJANGO"] is False


def test_it_lets_pages_load_pictures_and_videos_from_the_media_origin_and_frame_nothing():
    policy = production_settings("CONTENT_SECURITY_POLICY")["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]

    assert "https://media.stretchhub.example" in policy["img-src"]
    assert "https://media.stretchhub.example" in policy["media-src"]
    assert policy["frame-src"] == ["'none'"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"MEDIA_S3_BUCKET": "Not_A_Bucket"}, "MEDIA_S3_BUCKET must be an S3 bucket name"),
        ({"MEDIA_S3_PUBLIC_URL": None}, "MEDIA_S3_PUBLIC_URL"),
        ({"MEDIA_S3_PUBLIC_URL": "ftp://media.example"}, "MEDIA_S3_PUBLIC_URL must be a URL with scheme http or https"),
        ({"MEDIA_S3_PUBLIC_URL": "https://media.example/?sig=1"}, "MEDIA_S3_PUBLIC_URL must be a plain"),
        ({"MEDIA_S3_ENDPOINT_URL": "media:8333"}, "MEDIA_S3_ENDPOINT_URL must be a URL"),
        ({"MEDIA_S3_SECRET_ACCESS_KEY": None}, "Set both MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY"),
        ({"MEDIA_IMAGE_MAX_MB": "ten"}, "MEDIA_IMAGE_MAX_MB must be an integer"),
        ({"MEDIA_VIDEO_MAX_MB": "0"}, "MEDIA_VIDEO_MAX_MB must be a positive number"),
    ],
)
def test_it_refuses_to_start_with_a_bad_media_setting(overrides, message):
    result = run_manage("check", env=production_env(**overrides))

    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1]


def test_it_uses_the_machines_own_s3_credentials_when_no_key_is_given():
    settings = production_settings("STORAGES", MEDIA_S3_ACCESS_KEY_ID=None, MEDIA_S3_SECRET_ACCESS_KEY=None)

    options = settings["STORAGES"]["default"]["OPTIONS"]
    assert "access_key" not in options and "secret_key" not in options


@pytest.mark.parametrize("value", ["not-a-key", "QUJD", "_" * 43])
def test_it_refuses_to_start_with_a_vapid_key_that_is_not_a_p256_private_key(value):
    result = run_manage("check", env=production_env(VAPID_PRIVATE_KEY=value))

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: VAPID_PRIVATE_KEY must be a P-256")
