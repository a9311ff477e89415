"""API benchmark: a program's whole structure and an enrolment's progress against a bare Django view.

    .venv/bin/python bench/api.py [--duration 10] [--connections 16]

Serves the site with gunicorn (2 sync workers, gunicorn.conf.py, DJANGO_DEBUG=0 and
production settings) on a free port on 127.0.0.1, against a PostgreSQL database of
its own (stretchhub_bench_api, created and dropped here) and, when Redis answers at
BENCH_REDIS_URL (default redis://127.0.0.1:6379/6, flushed before and after), the
Redis cache as in production (program details, throttle counters).

The program has 4 weeks × 5 sessions × 4 stretches; a member enrolled three weeks
ago has ticked most due sessions. `wrk` then loads, one after the other in the
same server run:
  bare      a view returning a small JSON body (bench/api_urls.py, not in production URLs)
  detail    GET /api/v1/programs/<slug>/        anonymous, the whole structure
  progress  GET /api/v1/enrolments/<id>/progress/  with the member's token
all through the full middleware stack, with throttling on (rates raised so the
load is not refused) and marked as HTTPS by the proxy header. Prints requests/s,
p50 and p99 per endpoint with their ratio to the bare view, and ends with
`ratio: X.XX (program detail ÷ bare)` (requests/s; target ≥ 0.50, p99 < 50 ms).
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
DB_NAME = "stretchhub_bench_api"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
TARGET_RATIO = 0.50
TARGET_P99_MS = 50.0
PROGRAM_SLUG = "four-week-mobility"


# -- seeding (inside Django, in a subprocess with the production environment) --


def seed() -> dict:
    import datetime as dt

    import django

    django.setup()
    from django.utils import timezone

    from accounts.api.services import api_token_create
    from accounts.models import User
    from programs import selectors, services
    from programs.models import BodyArea, Program, ProgramSession, SessionItem, Stretch

    trainer = User.objects.create(username="bench-trainer", is_staff=True)
    areas = list(BodyArea.objects.all()[:3])
    stretches = []
    for n in range(4):
        stretch = Stretch.objects.create(
            name=f"Stretch {n}",
            slug=f"bench-stretch-{n}",
            summary="A steady stretch.",
            steps="Stand tall.\nReach slowly.\nBreathe out and hold.\nCome back up slowly.",
            cues="Breathe slowly.\nKeep the shoulders down.",
            cautions="Stop if it hurts.\nDo not bounce.",
            position=Stretch.Position.STANDING,
            default_hold_seconds=20,
            status=Stretch.Status.PUBLISHED,
        )
        stretch.body_areas.set(areas[: n % 3 + 1])
        stretches.append(stretch)
    program = Program.objects.create(
        title="Four weeks of mobility",
        slug=PROGRAM_SLUG,
        summary="Five short sessions a week.",
        goal="Move freely.",
        author=trainer,
        status=Program.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    for week in range(1, 5):
        for day in range(1, 6):
            session = ProgramSession.objects.create(
                program=program, week=week, day=day, title=f"Week {week}, day {day}", notes="Go gently."
            )
            SessionItem.objects.bulk_create(
                SessionItem(session=session, stretch=s, order=i, hold_seconds=20 + 5 * week, per_side=i % 2 == 0)
                for i, s in enumerate(stretches)
            )

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
    enrolment = services.enrolment_create(
        member=member, program=program, start_date=today - dt.timedelta(days=13), today=today
    )
    ticked = 0
    for session in program.sessions.order_by("week", "day"):
        if enrolment.date_of_session(session) < today and session.day != 3:
            services.completion_record(enrolment=enrolment, program_session=session, pain_before=5, pain_after=3)
            ticked += 1
    return {"token": api_token_create(user=member)[1], "enrolment": enrolment.pk, "ticked": ticked}


# -- orchestration --


def _env(use_redis: bool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_", "API_"))}
    env.pop("REDIS_URL", None)
    env |= {
        "DJANGO_SETTINGS_MODULE": "api_settings",
        "PYTHONPATH": f"{BASE_DIR}{os.pathsep}{BENCH_DIR}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": f"{PG_ADMIN_URL}/{DB_NAME}",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
        # Throttling stays on (its cache round trips are part of every request), high enough not to refuse.
        "API_THROTTLE_ANON": "10000000/min",
        "API_THROTTLE_MEMBER": "10000000/min",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
    if use_redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
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
    server_log = tempfile.NamedTemporaryFile(prefix="stretchhub-bench-api-", suffix=".log", delete=False)
    server = None
    try:
        if use_redis:
            flush_redis(REDIS_URL)
        env = _env(use_redis)
        print("preparing: migrate, a 4 × 5 × 4 program, a member three weeks in ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        seeded = json.loads(run([sys.executable, __file__, "--seed"], env).splitlines()[-1])

        port = free_port()
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "stretchhub.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=BASE_DIR,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        wait_for(port, server)
        headers = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
        member_headers = headers | {"Authorization": f"Token {seeded['token']}"}
        endpoints = {
            "bare": ("/bench/bare/", headers),
            "detail": (f"/api/v1/programs/{PROGRAM_SLUG}/", headers),
            "progress": (f"/api/v1/enrolments/{seeded['enrolment']}/progress/", member_headers),
        }
        for name, (path, sent) in endpoints.items():
            status, body, _ = get(port, path, sent)
            if status != 200 or (name == "detail" and len(json.loads(body)["weeks"]) != 4):
                sys.exit(f"{path} answered {status}:\n{body[:500]}")
        detail = json.loads(get(port, endpoints["detail"][0], headers).body)
        items = sum(len(s["items"]) for w in detail["weeks"] for s in w["sessions"])

        print(
            f"gunicorn: 2 workers, PostgreSQL, {'Redis' if use_redis else 'per-process'} cache; "
            f"program: {len(detail['weeks'])} weeks, {detail['session_count']} sessions, {items} items "
            f"({len(json.dumps(detail)) // 1024} KiB); member: {seeded['ticked']} sessions ticked"
        )
        print(f"wrk: 2 threads, {options.connections} connections, {options.duration:g} s each (after 2 s warm-up)")
        results = {}
        for name, (path, sent) in endpoints.items():
            url = f"http://127.0.0.1:{port}{path}"
            wrk(url, sent, duration=2, connections=options.connections)  # warm-up, untimed
            results[name] = wrk(url, sent, duration=options.duration, connections=options.connections)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        if use_redis:
            with contextlib.suppress(Exception):
                flush_redis(REDIS_URL)
        with contextlib.suppress(Exception):
            psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")

    bare = results["bare"]["rps"]
    print(f"{'endpoint':<10} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'÷ bare':>7}")
    for name, row in results.items():
        print(
            f"{name:<10} {row['requests']:>9} {row['rps']:>9.1f} {row['p50']:>8.2f} {row['p99']:>8.2f}"
            f" {row['rps'] / bare:>7.2f}"
        )
    ratio = results["detail"]["rps"] / bare
    p99 = results["detail"]["p99"]
    verdict = "meets" if ratio >= TARGET_RATIO and p99 < TARGET_P99_MS else "below"
    print(f"program detail p99: {p99:.2f} ms (target < {TARGET_P99_MS:.0f} ms)")
    print(f"ratio: {ratio:.2f} (program detail ÷ bare; target ≥ {TARGET_RATIO:.2f}, {verdict})")


if __name__ == "__main__":
    main()
