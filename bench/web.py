"""Web benchmark: a member's dashboard and progress page, caches off and on, against a bare Django view.

    .venv/bin/python bench/web.py

Serves the site with gunicorn (2 sync workers, gunicorn.conf.py, DJANGO_DEBUG=0 and
production settings) on a free port on 127.0.0.1, against a PostgreSQL database of
its own (stretchhub_bench_web, created and dropped here), twice in one run:
  caches off  every cache alias is Django's DummyCache: every request is computed
              from the database (figures named NAME-cold)
  caches on   the Redis cache as in production, at BENCH_REDIS_URL (default
              redis://127.0.0.1:6379/2, flushed before and after; figures NAME)

One member is enrolled in a 12-week program (3 sessions a week) with a year of
history: four earlier runs completed and the current run, started 11 weeks ago,
with every due session done and pain scores throughout (harness.py). On each
server `wrk` (16 connections) loads, one after the other:
  bare       a view returning a small JSON body (bench/web_urls.py, not in production URLs)
  signed-in  a view that only loads the signed-in member (session and user rows): the
             floor under every member page
  page-shell the base template around an empty page for that member
  dashboard  /today/
  progress   /enrolments/<current>/
all through the full middleware stack, logged in as the member (the session cookie,
and the CSRF cookie from the first page, as a browser sends them) and marked as
HTTPS by the proxy header. Prints `ratio[NAME]` (req/s ÷ the same server's bare
req/s) with p50 and p99 per figure, and ends with
`ratio: X.XX (dashboard, caches off ÷ bare)`.
"""

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import harness
from harness import Page, flush_redis, get, redis_answers, run

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DB_NAME = "stretchhub_bench_web"
# One key for the seeding and both servers: the seeded session is signed with it.
SECRET_KEY = secrets.token_urlsafe(50)
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
TARGETS = {"dashboard-cold": 0.20, "dashboard": 0.30, "progress-cold": 0.15, "progress": 0.25}


def _env(static_root: str, *, caches: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "web_settings",
        "PYTHONPATH": f"{BASE_DIR}{os.pathsep}{BENCH_DIR}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        **harness.production_placeholders(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": f"{PG_ADMIN_URL}/{DB_NAME}",
        "DJANGO_STATIC_ROOT": static_root,
        "REDIS_URL": REDIS_URL,
        harness.CACHES_ENV: caches,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }


def _pages(port: int, seeded: dict, suffix: str) -> list[Page]:
    headers = {
        "Host": f"127.0.0.1:{port}",
        "X-Forwarded-Proto": "https",
        "Cookie": f"sessionid={seeded['session_key']}",
    }
    pages = [
        Page(f"bare{suffix}", "/bench/bare/", headers),
        Page(f"signed-in{suffix}", "/bench/signed-in/", headers),
        Page(f"page-shell{suffix}", "/bench/page-shell/", headers),
        Page(f"dashboard{suffix}", "/today/", headers),
        Page(f"progress{suffix}", f"/enrolments/{seeded['current']}/", headers),
    ]
    for page in pages[3:]:
        status, body, cookies = get(port, page.path, headers)
        if status != 200 or "Twelve weeks" not in body:
            sys.exit(f"{page.path} answered {status}; is the member logged in?\n{body[:500]}")
        if "csrftoken" in cookies and "csrftoken" not in headers["Cookie"]:
            # As a browser does after its first page: send the CSRF cookie back.
            headers["Cookie"] += f"; csrftoken={cookies['csrftoken']}"
    return pages


def main() -> None:
    if sys.argv[1:] == ["--seed"]:  # internal: runs inside Django with the bench environment
        print(json.dumps(harness.seed_member_with_a_year()))
        return
    if sys.argv[1:]:
        sys.exit(__doc__)
    harness.ensure_wrk()
    if not redis_answers(REDIS_URL):
        sys.exit(f"Redis is needed at {REDIS_URL} (set BENCH_REDIS_URL)")
    harness.prepare_database(PG_ADMIN_URL, DB_NAME)
    static_root = tempfile.mkdtemp(prefix="stretchhub-bench-web-static-")
    results = {}
    try:
        flush_redis(REDIS_URL)
        env = _env(static_root, caches="on")
        print("preparing: migrate, collectstatic, a member with a year of history ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
        seeded = json.loads(run([sys.executable, __file__, "--seed"], env).splitlines()[-1])
        print(
            f"gunicorn: 2 workers, PostgreSQL; member with {seeded['completions']} completions over 5 runs "
            f"of a 12-week program; wrk: 2 threads, {harness.CONNECTIONS} connections, "
            f"{harness.SECONDS_PER_FIGURE} s per figure after {harness.WARM_UP_SECONDS} s warm-up",
            flush=True,
        )
        for caches, suffix in (("off", "-cold"), ("on", "")):
            with harness.gunicorn(_env(static_root, caches=caches), log_prefix="stretchhub-bench-web-") as port:
                results |= harness.load(port, _pages(port, seeded, suffix))
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        with contextlib.suppress(Exception):
            flush_redis(REDIS_URL)
        with contextlib.suppress(Exception):
            harness.psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    harness.report(results, targets=TARGETS)
    ratio = results["dashboard-cold"]["rps"] / results["bare-cold"]["rps"]
    print(f"ratio: {ratio:.2f} (dashboard, caches off ÷ bare)")


if __name__ == "__main__":
    main()
