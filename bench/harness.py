"""What every benchmark here needs: a free port, its own PostgreSQL database,
Redis when it answers, gunicorn started and awaited, and wrk's figures parsed;
and, for web.py and api.py, the member they load and the cold/warm report."""

import base64
import contextlib
import http.client
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import NamedTuple

BASE_DIR = Path(__file__).resolve().parent.parent


def vapid_private_key() -> str:
    """A throwaway VAPID key: production settings refuse to start without one (docs/push.md)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def production_placeholders() -> dict[str, str]:
    """What production settings refuse to start without, for a benchmark that neither pushes nor stores media:
    a throwaway VAPID key and a media bucket that nothing reads or writes (docs/push.md, docs/media.md)."""
    return {
        "VAPID_PRIVATE_KEY": vapid_private_key(),
        "MEDIA_S3_BUCKET": "bench-no-media",
        "MEDIA_S3_PUBLIC_URL": "https://media.bench.invalid",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{admin_url}/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


def postgres_answers(admin_url: str) -> bool:
    try:
        psql(admin_url, "SELECT 1")
        return True
    except Exception:  # not running, refused, wrong URL: run without it
        return False


def redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # not installed, not running, wrong URL: run without it
        return False


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


class Response(NamedTuple):
    status: int
    body: str
    cookies: dict[str, str]


def get(port: int, path: str, headers: dict[str, str]) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return Response(response.status, response.read().decode(), {name: c.value for name, c in cookies.items()})


def wait_for(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited during start-up")
        with contextlib.suppress(OSError):
            if get(port, "/healthz", {"Host": "127.0.0.1"}).status == 200:
                return
        time.sleep(0.3)
    sys.exit("gunicorn did not answer /healthz in time")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, headers: dict[str, str], *, duration: int, connections: int) -> dict:
    """requests/s, p50, p99 (ms) and the request count; exits on any non-2xx/3xx or socket error."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if errors or socket_errors:
        sys.exit(f"wrk saw errors for {url}:\n{output}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


# -- web.py and api.py: one member with a year of history, each page cold and warm --

P99_TARGET_MS = 50.0
# wrk's connections for every figure; the p99 target is stated at this load.
CONNECTIONS = 16
SECONDS_PER_FIGURE = 10
WARM_UP_SECONDS = 2
PROGRAM_SLUG = "twelve-weeks"
# Read by bench/web_settings.py and bench/api_settings.py: "off" swaps every cache alias for DummyCache.
CACHES_ENV = "BENCH_CACHES"


def seed_member_with_a_year() -> dict:
    """A published 12-week program (3 sessions a week, 4 stretches each) and a member with a year in it.

    Four earlier runs completed, then the current run, started 11 weeks ago, with
    every due session done and pain scores throughout. Returns the member's web
    session key, an API token, the current enrolment's id and the completion count.
    Runs inside Django (django.setup() first).
    """
    import datetime as dt
    from importlib import import_module

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone

    from accounts.api.services import api_token_create
    from accounts.models import User
    from programs import selectors
    from programs.models import BodyArea, Completion, Enrolment, Program, ProgramSession, SessionItem, Stretch

    trainer = User.objects.create(username="bench-trainer", is_staff=True, display_name="Bench trainer")
    areas = list(BodyArea.objects.order_by("pk")[:3])
    stretches = []
    for n in range(4):
        stretch = Stretch.objects.create(
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
        stretch.body_areas.set(areas[: n % 3 + 1])
        stretches.append(stretch)
    program = Program.objects.create(
        title="Twelve weeks of mobility",
        slug=PROGRAM_SLUG,
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

    def enrolled_run(start, status):
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
            if enrolment.date_of_session(s) < today
        )
        return enrolment

    for back in range(4, 0, -1):
        enrolled_run(today - dt.timedelta(days=77 + 84 * back), Enrolment.Status.COMPLETED)
    current = enrolled_run(today - dt.timedelta(days=77), Enrolment.Status.ACTIVE)

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(member.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.EmailOrUsernameBackend"
    store[HASH_SESSION_KEY] = member.get_session_auth_hash()
    store.create()
    return {
        "session_key": store.session_key,
        "token": api_token_create(user=member)[1],
        "current": current.pk,
        "completions": Completion.objects.filter(enrolment__member=member).count(),
    }


class Page(NamedTuple):
    name: str
    path: str
    headers: dict[str, str]


def prepare_database(admin_url: str, name: str) -> None:
    try:
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        psql(admin_url, f"CREATE DATABASE {name}")
    except Exception as exc:  # these benchmarks are about production: no PostgreSQL, no run
        sys.exit(f"PostgreSQL is needed at {admin_url} (set BENCH_PG_URL): {exc}")


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (apt-get install -y wrk) ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, log_prefix: str):
    """gunicorn (gunicorn.conf.py, 2 workers, no recycling mid-run) on a free port; yields the port."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix=log_prefix, suffix=".log", delete=False)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "stretchhub.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--max-requests",
            "0",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(port, server)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def load(port: int, pages: list[Page]) -> dict[str, dict]:
    """wrk on each page in turn (after an untimed warm-up) at CONNECTIONS connections."""
    results = {}
    for page in pages:
        url = f"http://127.0.0.1:{port}{page.path}"
        wrk(url, page.headers, duration=WARM_UP_SECONDS, connections=CONNECTIONS)
        results[page.name] = wrk(url, page.headers, duration=SECONDS_PER_FIGURE, connections=CONNECTIONS)
    return results


def report(results: dict[str, dict], *, targets: dict[str, float]) -> None:
    """One `ratio[NAME]` line per figure, against the bare view measured on the same server.

    NAME-cold figures (caches off) are divided by bare-cold, the others by bare.
    """
    for name in ("bare-cold", "bare"):
        row = results[name]
        print(f"{name}: {row['rps']:.1f} req/s, p50 {row['p50']:.2f} ms, p99 {row['p99']:.2f} ms")
    for name, row in results.items():
        if name.startswith("bare"):
            continue
        bare = results["bare-cold" if name.endswith("-cold") else "bare"]
        ratio = row["rps"] / bare["rps"]
        target = targets.get(name)
        if target is None:  # a floor figure: what any page of its kind costs at least
            verdict = "floor, no target"
        else:
            verdict = f"target ≥ {target:.2f}: {'meets' if ratio >= target else 'BELOW'}"
        p99 = "under" if row["p99"] < P99_TARGET_MS else "NOT under"
        print(
            f"ratio[{name}]: {ratio:.2f} ({name} req/s ÷ bare req/s) {row['rps']:.1f} ÷ {bare['rps']:.1f} req/s,"
            f" p50 {row['p50']:.2f} ms, p99 {row['p99']:.2f} ms ({p99} {P99_TARGET_MS:.0f} ms); {verdict}"
        )
