"""Run Django in a subprocess with production settings (DJANGO_DEBUG=0).

Settings are read once at import, so the only honest way to see what
production gets is a fresh interpreter with production's environment.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")


def production_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a production process; an override of None removes a variable."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env |= {
        "DJANGO_SETTINGS_MODULE": "stretchhub.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "stretchhub.example",
        "SITE_URL": "https://stretchhub.example",
        "DATABASE_URL": "postgres://stretchhub@127.0.0.1:5432/stretchhub",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "MEDIA_S3_BUCKET": "stretchhub-media",
        "MEDIA_S3_PUBLIC_URL": "https://media.stretchhub.example",
        "MEDIA_S3_ACCESS_KEY_ID": "stretchhub",
        "MEDIA_S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        # A throwaway P-256 key (32 bytes, base64url), as `manage.py push_keys --print` makes.
        "VAPID_PRIVATE_KEY": "QFtwniPxE1OB3GZ0Vb4RwjeKU2L3s_T0G4M4RLYCBkA",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def production_settings(*names: str, **env_overrides: str | None) -> dict:
    """The named settings as a production process sees them (JSON-able values only)."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=production_env(**env_overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
