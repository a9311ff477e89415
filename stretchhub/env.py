"""Typed readers for environment variables that fail loudly on bad values.

Settings are read once at start-up; a typo in production should stop the
process with a message naming the variable, not run with a silent default.
"""

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str | None = None, *, schemes: tuple[str, ...], required: bool = False) -> str | None:
    value = env_str(name, default, required=required)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {' or '.join(schemes)}; got {value!r}.")
    return value


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Media:
    options: dict
    # scheme://host[:port] of the public address, for the Content-Security-Policy.
    public_origin: str


def s3_media_options(*, bucket: str, cache_control: str) -> S3Media:
    """django-storages' S3Storage options for the media bucket, from the MEDIA_S3_* variables.

    MEDIA_S3_PUBLIC_URL is where the bucket's objects can be read without
    credentials (a CDN, the bucket's website address, or the S3 endpoint and
    the bucket as its first path segment); URLs are built from it, unsigned.
    MEDIA_S3_ENDPOINT_URL is for S3-compatible servers (SeaweedFS, MinIO);
    unset means Amazon S3. Keys may both be left unset to use the machine's
    own credentials (an instance role); one without the other is an error.
    """
    if not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise ImproperlyConfigured(
            "MEDIA_S3_BUCKET must be an S3 bucket name (3–63 lower-case letters, digits, dots, hyphens); "
            f"got {bucket!r}."
        )
    public_url = env_url("MEDIA_S3_PUBLIC_URL", schemes=("http", "https"), required=True).rstrip("/")
    public = urlsplit(public_url)
    if public.query or public.fragment or not public.hostname:
        raise ImproperlyConfigured(f"MEDIA_S3_PUBLIC_URL must be a plain http(s) address; got {public_url!r}.")
    endpoint = env_url("MEDIA_S3_ENDPOINT_URL", schemes=("http", "https"))
    key, secret = env_str("MEDIA_S3_ACCESS_KEY_ID"), env_str("MEDIA_S3_SECRET_ACCESS_KEY")
    if bool(key) != bool(secret):
        raise ImproperlyConfigured(
            "Set both MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY, or neither (to use the machine's role)."
        )
    options = {
        "bucket_name": bucket,
        "region_name": env_str("MEDIA_S3_REGION", "us-east-1"),
        "custom_domain": f"{public.netloc}{public.path}",
        "url_protocol": f"{public.scheme}:",
        "querystring_auth": False,
        # Names are ours and unique (programs/media.py): an upload never replaces an object.
        "file_overwrite": False,
        "default_acl": None,
        "object_parameters": {"CacheControl": cache_control},
        "signature_version": "s3v4",
    }
    if endpoint:
        options |= {"endpoint_url": endpoint, "addressing_style": "path"}
    if key:
        options |= {"access_key": key, "secret_key": secret}
    return S3Media(options=options, public_origin=f"{public.scheme}://{public.netloc}")
