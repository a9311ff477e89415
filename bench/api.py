"""API benchmark: a program's whole structure and an enrolment's progress, caches off and on, against a bare view.

    .venv/bin/python bench/api.py

Serves the site with gunicorn (2 sync workers, gunicorn.conf.py, DJANGO_DEBUG=0 and
production settings) on a free port on 127.0.0.1, against a PostgreSQL database of
its own (stretchhub_bench_api, created and dropped here), twice in one run:
  caches off  every cache alias is Django's DummyCache: every request is computed
              from the database (figures named NAME-cold)
  caches on   the Redis cache as in production (throttle counters), at
              BENCH_REDIS_URL (default redis://127.0.0.1:6379/3, flushed before
              and after; figures NAME)

The member and program are bench/web.py's (harness.py): a 12-week program, 3
sessions a week of 4 stretches, and a member with a year of history in it. On
each server `wrk` (16 connections) loads, one after the other:
  bare            a view returning a small JSON body (bench/api_urls.py, not in production URLs)
  program-detail  GET /api/v1/programs/<slug>/               anonymous, the whole structure
  api-progress    GET /api/v1/enrolments/<current>/progress/  with the member's token
all through the full middleware stack, with throttling on (rates raised so the
load is not refused) and marked as HTTPS by the proxy header. No request sends
If-None-Match: every one gets the whole body. Prints `ratio[NAME]` (req/s ÷ the
same server's bare req/s) with p50 and p99 per figure, and ends with
`ratio: X.XX (program-detail ÷ bare)`.
"""

import contextlib
import json
import os
import secrets
import sys
from pathlib import Path

import harness
from harness import Page, flush_redis, get, redis_answers, run

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DB_NAME = "stretchhub_bench_api"
# One key for the seeding and both servers: the seeded session is signed with it.
SECRET_KEY = secrets.token_urlsafe(50)
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
TARGETS = {
    "program-detail-cold": 0.25,
    "program-detail": 0.50,
    "api-progress-cold": 0.15,
    "api-progress": 0.15,
}


def _env(*, caches: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_", "API_"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "api_settings",
        "PYTHONPATH": f"{BASE_DIR}{os.pathsep}{BENCH_DIR}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        **harness.production_placeholders(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": f"{PG_ADMIN_URL}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        harness.CACHES_ENV: caches,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
        # Throttling stays on (its cache round trip is part of every request), high enough not to refuse.
        "API_THROTTLE_ANON": "10000000/min",
        "API_THROTTLE_MEMBER": "10000000/min",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }


def _pages(port: int, seeded: dict, suffix: str) -> list[Page]:
    headers = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
    member = headers | {"Authorization": f"Token {seeded['token']}"}
    pages = [
        Page(f"bare{suffix}", "/bench/bare/", headers),
        Page(f"api-floor{suffix}", "/bench/api-floor/", headers),
        Page(f"program-detail{suffix}", f"/api/v1/programs/{harness.PROGRAM_SLUG}/", headers),
        Page(f"api-progress{suffix}", f"/api/v1/enrolments/{seeded['current']}/progress/", member),
    ]
    for page in pages:
        status, body, _ = get(port, page.path, page.headers)
        if status != 200:
            sys.exit(f"{page.path} answered {status}:\n{body[:500]}")
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
    results = {}
    try:
        flush_redis(REDIS_URL)
        env = _env(caches="on")
        print("preparing: migrate, a 12-week program, a member with a year of history ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        seeded = json.loads(run([sys.executable, __file__, "--seed"], env).splitlines()[-1])
        for caches, suffix in (("off", "-cold"), ("on", "")):
            with harness.gunicorn(_env(caches=caches), log_prefix="stretchhub-bench-api-") as port:
                pages = _pages(port, seeded, suffix)
                if not suffix:
                    detail = json.loads(get(port, pages[2].path, pages[2].headers).body)
                    items = sum(len(s["items"]) for w in detail["weeks"] for s in w["sessions"])
                    print(
                        f"gunicorn: 2 workers, PostgreSQL; program: {len(detail['weeks'])} weeks, "
                        f"{detail['session_count']} sessions, {items} items ({len(json.dumps(detail)) // 1024} KiB); "
                        f"member: {seeded['completions']} completions over 5 runs; wrk: 2 threads, "
                        f"{harness.CONNECTIONS} connections, {harness.SECONDS_PER_FIGURE} s per figure "
                        f"after {harness.WARM_UP_SECONDS} s warm-up",
                        flush=True,
                    )
                results |= harness.load(port, pages)
    finally:
        with contextlib.suppress(Exception):
            flush_redis(REDIS_URL)
        with contextlib.suppress(Exception):
            harness.psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    harness.report(results, targets=TARGETS)
    ratio = results["program-detail"]["rps"] / results["bare"]["rps"]
    print(f"ratio: {ratio:.2f} (program-detail ÷ bare)")


if __name__ == "__main__":
    main()
