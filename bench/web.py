"""Web benchmark: a member's dashboard and progress page against a bare Django view.

    .venv/bin/python bench/web.py [--duration 10] [--connections 8]

Serves the site with gunicorn (2 sync workers, gunicorn.conf.py, DJANGO_DEBUG=0 and
production settings) on a free port on 127.0.0.1, against a PostgreSQL database of
its own (stretchhub_bench_web, created and dropped here) and, when Redis answers at
BENCH_REDIS_URL (default redis://127.0.0.1:6379/2, flushed before and after), the
Redis cache as in production.

One member is enrolled in a 12-week program (3 sessions a week) with a year of
history: four earlier runs completed and the current run, started 11 weeks ago,
with every due session done and pain scores throughout. `wrk` then loads, one
after the other in the same server run:
  bare       a view returning a small JSON body (bench/web_urls.py, not in production URLs)
  dashboard  /today/
  progress   /enrolments/<current>/
all through the full middleware stack, logged in as the member (the session cookie,
and the CSRF cookie from the first page, as a browser sends them) and marked as
HTTPS by the proxy header. Prints requests/s, p50 and p99 per page and ends
with `ratio: X.XX (dashboard ÷ bare)` (requests/s; target ≥ 0.40).
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import flush_redis, free_port, get, psql, redis_answers, run, wait_for, wrk

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DB_NAME = "stretchhub_bench_web"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
TARGET_RATIO = 0.40


# -- seeding (inside Django, in a subprocess with the production environment) --


def seed() -> dict:
    import datetime as dt
    from importlib import import_module

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone

    from accounts.models import User
    from programs import selectors
    from programs.models import Completion, Enrolment, Program, ProgramSession, SessionItem, Stretch

    trainer = User.objects.create(username="bench-trainer", is_staff=True)
    stretches = [
        Stretch.objects.create(
            name=f"Stretch {n}",
            slug=f"bench-stretch-{n}",
            summary="A steady stretch.",
            steps="Stand tall.\nReach slowly.\nBreathe out and hold.",
            cues="Breathe slowly.",
            cautions="Stop if it hurts.",
            position=Stretch.Position.STANDING,
            default_hold_seconds=20,
            status=Stretch.Status.PUBLISHED,
        )
        for n in range(4)
    ]
    program = Program.objects.create(
        title="Twelve weeks of mobility",
        slug="twelve-weeks",
        summary="Three short sessions a week.",
        goal="Move freely.",
        author=trainer,
        status=Program.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    sessions = []
    for week in range(1, 13):
        for day in (1, 3, 5):
            session = ProgramSession.objects.create(program=program, week=week, day=day, title=f"W{week} D{day}")
            SessionItem.objects.bulk_create(
                SessionItem(session=session, stretch=s, order=i, hold_seconds=20, per_side=i % 2 == 0)
                for i, s in enumerate(stretches)
            )
            sessions.append(session)

    member = User(
        username="bench-member",
        email="bench-member@bench.invalid",
        display_name="Bench member",
        timezone="Europe/Berlin",
        email_verified_at=timezone.now(),
    )
    member.set_unusable_password()
    member.save()
    today = selectors.member_local_today(member)

    def enrolled_run(start, status, done_before):
        enrolment = Enrolment.objects.create(
            member=member,
            program=program,
            start_date=start,
            reminder_time=dt.time(8),
            status=status,
            ended_at=timezone.now() if status != Enrolment.Status.ACTIVE else None,
        )
        Completion.objects.bulk_create(
            Completion(
                enrolment=enrolment,
                program_session=s,
                completed_at=dt.datetime.combine(enrolment.date_of_session(s), dt.time(18), tzinfo=dt.UTC),
                pain_before=6 - min(5, i // 8),
                pain_after=4 - min(3, i // 10),
                note="Felt fine.",
            )
            for i, s in enumerate(sessions)
            if enrolment.date_of_session(s) < done_before
        )
        return enrolment

    # A year: four earlier 12-week runs, then the current one started 11 weeks ago.
    for back in range(4, 0, -1):
        start = today - dt.timedelta(days=77 + 84 * back)
        enrolled_run(start, Enrolment.Status.COMPLETED, today)
    current = enrolled_run(today - dt.timedelta(days=77), Enrolment.Status.ACTIVE, today)

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(member.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.EmailOrUsernameBackend"
    store[HASH_SESSION_KEY] = member.get_session_auth_hash()
    store.create()
    return {
        "session_key": store.session_key,
        "current": current.pk,
        "completions": Completion.objects.filter(enrolment__member=member).count(),
    }


# -- orchestration --


def _env(static_root: str, use_redis: bool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env |= {
        "DJANGO_SETTINGS_MODULE": "web_settings",
        "PYTHONPATH": f"{BASE_DIR}{os.pathsep}{BENCH_DIR}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": f"{PG_ADMIN_URL}/{DB_NAME}",
        "DJANGO_STATIC_ROOT": static_root,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
    if use_redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)  # internal
    options = parser.parse_args()
    if options.seed:
        print(json.dumps(seed()))
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    try:
        psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        psql(PG_ADMIN_URL, f"CREATE DATABASE {DB_NAME}")
    except Exception as exc:  # this benchmark is about production: no PostgreSQL, no run
        sys.exit(f"PostgreSQL is needed at {PG_ADMIN_URL} (set BENCH_PG_URL): {exc}")
    use_redis = redis_answers(REDIS_URL)
    static_root = tempfile.mkdtemp(prefix="stretchhub-bench-web-static-")
    server_log = tempfile.NamedTemporaryFile(prefix="stretchhub-bench-web-", suffix=".log", delete=False)
    server = None
    try:
        if use_redis:
            flush_redis(REDIS_URL)
        env = _env(static_root, use_redis)
        print("preparing: migrate, collectstatic, a member with a year of history ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
        seeded = json.loads(run([sys.executable, __file__, "--seed"], env).splitlines()[-1])

        port = free_port()
        server = subprocess.Popen(
            # Steady state: no worker recycling (gunicorn.conf.py's max_requests) mid-run.
            [str(VENV_BIN / "gunicorn"), "stretchhub.wsgi", "--bind", f"127.0.0.1:{port}", "--max-requests", "0"],
            cwd=BASE_DIR,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        wait_for(port, server)
        headers = {
            "Host": f"127.0.0.1:{port}",
            "X-Forwarded-Proto": "https",
            "Cookie": f"sessionid={seeded['session_key']}",
        }
        pages = {
            "bare": "/bench/bare/",
            "dashboard": "/today/",
            "progress": f"/enrolments/{seeded['current']}/",
        }
        for name, path in pages.items():
            status, body, cookies = get(port, path, headers)
            if status != 200 or (name != "bare" and "Bench member" not in body and "Twelve weeks" not in body):
                sys.exit(f"{path} answered {status}; is the member logged in?\n{body[:500]}")
            if "csrftoken" in cookies:
                # As a browser does after its first page: send the CSRF cookie back.
                headers["Cookie"] += f"; csrftoken={cookies['csrftoken']}"

        print(
            f"gunicorn: 2 workers, PostgreSQL, {'Redis' if use_redis else 'per-process'} cache; "
            f"member with {seeded['completions']} completions over 5 runs of a 12-week program"
        )
        print(f"wrk: 2 threads, {options.connections} connections, {options.duration:g} s per page (after 2 s warm-up)")
        results = {}
        for name, path in pages.items():
            url = f"http://127.0.0.1:{port}{path}"
            wrk(url, headers, duration=2, connections=options.connections)  # warm-up, untimed
            results[name] = wrk(url, headers, duration=options.duration, connections=options.connections)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(static_root, ignore_errors=True)
        if use_redis:
            with contextlib.suppress(Exception):
                flush_redis(REDIS_URL)
        with contextlib.suppress(Exception):
            psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    print(f"{'page':<10} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, row in results.items():
        print(f"{name:<10} {row['requests']:>9} {row['rps']:>9.1f} {row['p50']:>8.2f} {row['p99']:>8.2f}")
    print(f"progress ÷ bare: {results['progress']['rps'] / results['bare']['rps']:.2f}")
    ratio = results["dashboard"]["rps"] / results["bare"]["rps"]
    verdict = "meets" if ratio >= TARGET_RATIO else "below"
    print(f"ratio: {ratio:.2f} (dashboard ÷ bare; target ≥ {TARGET_RATIO:.2f}, {verdict})")


if __name__ == "__main__":
    main()
