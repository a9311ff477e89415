"""Outbox benchmark: 100,000 reminders, then 100,000 weekly summaries, end to end, against raw smtplib.

    .venv/bin/python bench/reminders.py [--enrolments 100000] [--concurrency 8] [--no-explain]

Uses PostgreSQL (a database of its own, stretchhub_bench_reminders, created and
dropped here) and Redis as the broker (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/4, on a private queue) when they answer; otherwise a
SQLite file and the filesystem broker, and says so. Production settings
(DJANGO_DEBUG=0, the cache on BENCH_CACHE_REDIS_URL, default db 5), or
development ones when there is no Redis.

1. Seeds N members in four timezones, each enrolled in a daily program with
   their reminder time, in their own zone, a minute ago; next_reminder_at is
   computed by reminder_schedule_refresh.
2. An aiosmtpd sink runs in a process of its own and counts what it accepts.
3. For each kind (reminders, then weekly summaries):
   - raw: plain smtplib sends prebuilt messages of that kind (real emails
     rendered by the product, same size) over one connection to the sink —
     30,000 of them (at most N): the rate is steady long before;
   - end to end: a real `celery worker` (prefork, --concurrency) is started;
     the dispatcher (the same service beat runs each minute, here with a
     budget long enough to claim everything in one go) selects all N due
     recipients, inserts their outbox rows and queues batches — its time is
     printed on its own; the clock stops when the sink has N messages and
     every row is marked sent. Each email was claimed in the database,
     checked, built from the templates (for a summary: the week's figures from
     the same selectors as the web), sent over its batch's one SMTP
     connection and marked sent.
   Before the summaries, every member's chosen day and hour is set to a
   minute ago and next_weekly_summary_at to that instant.
   BENCH_KEEP_LOG=1 keeps the worker's logs.
4. On PostgreSQL, grows the tables to 1,000,000 enrolments and 1,000,000
   members (next instants spread over the next day and week, a minute's worth
   due) and prints EXPLAIN ANALYZE of the due queries: enrolments
   (enrolment_next_reminder_idx), weekly summaries (user_next_weekly_summary_idx)
   and the outbox rows to take back (outbox_status_lease_idx).

Prints `ratio[reminders]` and `ratio[weekly-summary]` and ends with
`ratio: X.XX (end-to-end reminders/s ÷ raw smtplib emails/s)`; targets ≥ 0.50
and ≥ 0.35.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import secrets
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import harness  # noqa: E402

DB_NAME = "stretchhub_bench_reminders"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
# Production settings need the cache Redis too (rate limits, beat's heartbeat): a database of its own.
CACHE_REDIS_URL = os.environ.get("BENCH_CACHE_REDIS_URL", "redis://127.0.0.1:6379/5")
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe")
TARGET_RATIO = 0.50
SUMMARY_TARGET_RATIO = 0.35
BIG_TABLE = 1_000_000
# The raw rate is steady after a few thousand messages; 30,000 keeps the whole run under 20 minutes.
RAW_COUNT = 30_000


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (Linux /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def with_children(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *map(int, children)]


def per_email(seconds: float, count: int) -> str:
    return f"{seconds / count * 1000:.2f} ms"


def say(message: str) -> None:
    print(message, flush=True)


# -- what is available --------------------------------------------------------


# -- the SMTP sink, in its own process ------------------------------------------


def run_sink(port_pipe, counter) -> None:
    import asyncio
    import logging

    from aiosmtpd.smtp import SMTP

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            counter.value += 1
            return "250 OK"

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Counter(), data_size_limit=None, enable_SMTPUTF8=True), host="127.0.0.1", port=0
        )
        port_pipe.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main())


class SinkProcess:
    def __init__(self):
        self.counter = multiprocessing.RawValue("q", 0)
        receiving, sending = multiprocessing.Pipe(duplex=False)
        self.process = multiprocessing.Process(target=run_sink, args=(sending, self.counter), daemon=True)
        self.process.start()
        self.port = receiving.recv()

    @property
    def count(self) -> int:
        return self.counter.value

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# -- seeding -----------------------------------------------------------------------


def seed(count: int, due_at: dt.datetime) -> None:
    from zoneinfo import ZoneInfo

    from accounts.models import User
    from programs.models import Enrolment, Program, ProgramSession, SessionItem, Stretch
    from programs.reminders.services import reminder_schedule_refresh

    stretches = [
        Stretch.objects.create(
            name=name,
            slug=f"bench-{n}",
            summary="A steady stretch.",
            steps="Stand tall.\nReach slowly.\nBreathe out and hold.",
            position=Stretch.Position.STANDING,
            default_hold_seconds=20,
            per_side=n % 2 == 1,
            status=Stretch.Status.PUBLISHED,
        )
        for n, name in enumerate(("Hang from a bar", "Cat–cow", "Seated hip stretch", "Hamstring stretch"))
    ]
    program = Program.objects.create(
        title="Lower back relief", slug="bench-lower-back", summary="Daily.", goal="Less stiffness.", status="published"
    )
    for week in range(1, 5):
        for day in range(1, 8):
            session = ProgramSession.objects.create(
                program=program, week=week, day=day, title=f"Week {week}, day {day}"
            )
            SessionItem.objects.bulk_create(
                SessionItem(
                    session=session,
                    stretch=stretch,
                    order=order,
                    hold_seconds=None if order == 1 else 20,
                    reps=8 if order == 1 else None,
                    per_side=stretch.per_side,
                )
                for order, stretch in enumerate(stretches)
            )

    local = {zone: due_at.astimezone(ZoneInfo(zone)) for zone in ZONES}
    started = time.monotonic()
    step = 5000
    for start in range(0, count, step):
        users = User.objects.bulk_create(
            User(
                username=f"bench{n}",
                email=f"bench{n}@example.com",
                display_name=f"Member {n}",
                timezone=ZONES[n % len(ZONES)],
                password="!",
            )
            for n in range(start, min(start + step, count))
        )
        Enrolment.objects.bulk_create(
            Enrolment(
                member=user,
                program=program,
                start_date=local[user.timezone].date(),
                reminder_time=local[user.timezone].time().replace(tzinfo=None),
            )
            for user in users
        )
    say(f"  seeded {count:,} members and enrolments in {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    ids = list(Enrolment.objects.values_list("pk", flat=True))
    for begin in range(0, len(ids), 10_000):
        chunk = [Enrolment(pk=pk) for pk in ids[begin : begin + 10_000]]
        reminder_schedule_refresh(enrolments=chunk, now=due_at - dt.timedelta(seconds=30))
    elapsed = time.monotonic() - started
    due = Enrolment.objects.filter(next_reminder_at=due_at).count()
    say(
        f"  reminder_schedule_refresh: {len(ids):,} enrolments in {elapsed:.1f} s "
        f"({len(ids) / elapsed:,.0f}/s); {due:,} due at {due_at:%H:%M:%S} UTC"
    )
    assert due == count, "every enrolment should be due"


def prebuilt_messages(variants: int) -> list[bytes]:
    """Real reminder emails (rendered by emails.py for real enrolments), as bytes."""
    from programs.models import Enrolment
    from programs.reminders import emails
    from programs.reminders.models import OutboxMessage
    from programs.reminders.services import enrolment_schedules

    enrolments = list(Enrolment.objects.select_related("member", "program").order_by("pk")[:variants])
    today = {e.pk: e.start_date for e in enrolments}
    contents = []
    for item in enrolment_schedules(enrolments, today_by_id=today):
        enrolment = item.enrolment
        delivery = OutboxMessage(pk=enrolment.pk, enrolment=enrolment, local_date=enrolment.start_date)
        contents.append(
            emails.ReminderContent(
                delivery=delivery,
                enrolment=enrolment,
                local_date=enrolment.start_date,
                session_id=item.session_ids[1],
            )
        )
    sessions = emails.load_sessions({c.session_id for c in contents})
    return [emails.reminder_message(content=c, sessions=sessions).message().as_bytes(linesep="\r\n") for c in contents]


def schedule_summaries(due_at: dt.datetime) -> None:
    """Every member's weekly summary falls due at `due_at`: their chosen day and hour, in their zone."""
    from zoneinfo import ZoneInfo

    from accounts.models import User

    started = time.monotonic()
    for zone in ZONES:
        local = due_at.astimezone(ZoneInfo(zone))
        User.objects.filter(timezone=zone, username__startswith="bench").update(
            weekly_summary_emails=True,
            weekly_summary_day=local.weekday(),
            weekly_summary_time=local.time().replace(tzinfo=None),
            next_weekly_summary_at=due_at,
        )
    due = User.objects.filter(next_weekly_summary_at=due_at).count()
    say(f"  {due:,} weekly summaries due at {due_at:%H:%M:%S} UTC (set in {time.monotonic() - started:.1f} s)")


def prebuilt_summaries(variants: int, due_at: dt.datetime) -> list[bytes]:
    """Real weekly summaries for the first `variants` members, built by their kind and rolled back."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from programs.reminders import kinds
    from programs.reminders.models import OutboxMessage

    with transaction.atomic():
        first = User.objects.filter(username__startswith="bench").order_by("pk").values("pk")[:variants]
        User.objects.exclude(pk__in=first).filter(next_weekly_summary_at=due_at).update(next_weekly_summary_at=None)
        token = timezone.now()
        kinds.WEEKLY_SUMMARIES.dispatch_chunk(now=token, token=token, lease_until=token + dt.timedelta(minutes=1))
        rows = list(
            OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEEKLY_SUMMARY, claimed_at=token).select_related(
                "recipient", "enrolment__member", "enrolment__program"
            )
        )
        built = kinds.WEEKLY_SUMMARIES.build(rows, now=token, skip=lambda row, reason: None)
        messages = [email.message().as_bytes(linesep="\r\n") for _, email in built]
        transaction.set_rollback(True)
    assert len(messages) == variants, f"built {len(messages)} of {variants} summaries"
    return messages


# -- the two measurements ---------------------------------------------------------


def raw_smtplib(sink: SinkProcess, messages: list[bytes], count: int) -> float:
    before = sink.count
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for n in range(count):
            smtp.sendmail("hello@stretchhub.localhost", [f"bench{n}@example.com"], messages[n % len(messages)])
    while sink.count - before < count:
        time.sleep(0.001)
    return count / (time.perf_counter() - started)


def start_worker(env: dict, queue: str, concurrency: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "stretchhub",
            "worker",
            "-Q",
            queue,
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if " ready." in log.read_text(errors="replace"):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not start:\n{log.read_text(errors='replace')[-3000:]}")


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def end_to_end(sink: SinkProcess, count: int, queue: str, kind: str) -> tuple[float, float]:
    from programs.reminders.kinds import outbox_dispatch
    from programs.reminders.models import OutboxMessage
    from programs.reminders.tasks import outbox_send_batch_task

    def enqueue(ids, token):
        outbox_send_batch_task.apply_async((ids, token.isoformat()), queue=queue)

    before = sink.count
    started = time.perf_counter()
    result = outbox_dispatch(enqueue=enqueue, budget=dt.timedelta(minutes=15))
    dispatched = time.perf_counter() - started
    say(
        f"  dispatcher: selected {result.queued:,} due rows, inserted and queued them in {result.batches:,} "
        f"batches in {dispatched:.1f} s ({result.queued / dispatched:,.0f} rows/s)"
    )
    deadline = time.monotonic() + 15 * 60
    last, last_change = -1, time.monotonic()
    while sink.count - before < count:
        if time.monotonic() > deadline or time.monotonic() - last_change > 120:
            raise RuntimeError(f"stalled at {sink.count - before:,} of {count:,} emails")
        if sink.count != last:
            last, last_change = sink.count, time.monotonic()
        time.sleep(0.05)
    rows = OutboxMessage.objects.filter(kind=kind)
    while rows.exclude(status=OutboxMessage.Status.SENT).exists():
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    time.sleep(2)
    sent = rows.filter(status=OutboxMessage.Status.SENT).count()
    say(f"  {sink.count - before:,} emails accepted by the sink, {sent:,} {kind} rows marked sent")
    assert sink.count - before == count == sent, "every member gets exactly one email"
    return count / elapsed, elapsed


# -- the due query at a million enrolments ----------------------------------------


def explain_due_queries(due_at: dt.datetime) -> None:
    from django.db import connection

    from accounts.models import User
    from programs.models import Enrolment, Program
    from programs.reminders.models import OutboxMessage
    from programs.reminders.services import due_enrolments_query

    existing = Enrolment.objects.count()
    extra_programs = -(-(BIG_TABLE - existing) // max(1, Enrolment.objects.values("member").distinct().count()))
    Program.objects.bulk_create(
        Program(title=f"Extra {n}", slug=f"bench-extra-{n}", summary="-", goal="-", status="published")
        for n in range(extra_programs)
    )
    started = time.monotonic()
    with connection.cursor() as cursor:
        # The rest of the million: reminders spread evenly over the next 24 hours,
        # so about a minute's worth (~700) falls due at any moment, plus the
        # 100,000 already sent, now due tomorrow.
        cursor.execute(
            """
            INSERT INTO programs_enrolment
                (member_id, program_id, start_date, reminder_time, reminders_enabled, status, pauses,
                 next_reminder_at, created_at)
            SELECT u.id, p.id, %s, %s, true, 'active', '[]'::jsonb,
                   %s + (random() * interval '24 hours'), now()
            FROM (SELECT id FROM accounts_user ORDER BY id) u
            CROSS JOIN (SELECT id FROM programs_program WHERE slug LIKE 'bench-extra-%%') p
            LIMIT %s
            """,
            [due_at.date(), dt.time(8, 0), due_at - dt.timedelta(minutes=1), BIG_TABLE - existing],
        )
        cursor.execute("ANALYZE programs_enrolment")
    total = Enrolment.objects.count()
    say(f"  grew the table to {total:,} enrolments in {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    with connection.cursor() as cursor:
        # Members up to a million too, their weekly summaries spread over the next week.
        cursor.execute(
            """
            INSERT INTO accounts_user
                (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                 date_joined, display_name, timezone, default_reminder_time, email_reminders, calendar_token,
                 external_id, nudge_emails, weekly_summary_emails, weekly_summary_day, weekly_summary_time,
                 trainer_digest_emails, next_weekly_summary_at)
            SELECT '!', false, 'extra' || n, '', '', 'extra' || n || '@example.com', false, true,
                   now(), '', 'Europe/Berlin', '08:00', true, md5(random()::text || n),
                   '', true, true, 6, '18:00', true, %s + (random() * interval '7 days')
            FROM generate_series(1, %s) AS n
            """,
            [due_at - dt.timedelta(minutes=1), BIG_TABLE - User.objects.count()],
        )
        cursor.execute("ANALYZE accounts_user")
        cursor.execute("ANALYZE reminders_outboxmessage")
    say(f"  grew the members to {User.objects.count():,} in {time.monotonic() - started:.1f} s")

    explain(
        "the reminders' and nudges' due enrolments (first chunk, as the dispatcher reads it)",
        due_enrolments_query(now=due_at).select_related("member"),
        index="enrolment_next_reminder_idx",
    )
    explain(
        "the weekly summaries' due members (first chunk)",
        User.objects.filter(next_weekly_summary_at__lte=due_at).order_by("next_weekly_summary_at"),
        index="user_next_weekly_summary_idx",
    )
    explain(
        f"the outbox rows to take back ({OutboxMessage.objects.count():,} rows in the outbox)",
        OutboxMessage.objects.filter(
            status__in=[OutboxMessage.Status.CLAIMED, OutboxMessage.Status.RETRYING], lease_until__lte=due_at
        ),
        index="outbox_status_lease_idx",
        lock=False,
    )


def explain(label: str, queryset, *, index: str, lock: bool = True) -> None:
    from django.db import connection, transaction

    from programs.reminders.outbox import CHUNK

    if lock:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = queryset[:CHUNK].query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            cursor.execute(sql, params)
            rows = len(cursor.fetchall())
            timings.append((time.perf_counter() - began) * 1000)
        transaction.set_rollback(True)
    say(f"  {label}:")
    say("    " + sql.replace("\n", " ")[:300] + " …")
    for line in plan.splitlines():
        say(f"    {line}")
    say(f"    → {rows:,} rows, median {statistics.median(timings):.1f} ms over 5 runs")
    if index not in plan:
        raise SystemExit(f"FAIL: the query does not use {index}")
    say(f"    uses {index}: yes")


# -- main ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolments", type=int, default=100_000)
    # More processes than CPUs: each spends most of its time waiting for the
    # SMTP server's replies and the database, and 8 measured faster than 4 here.
    parser.add_argument("--concurrency", type=int, default=8, help="worker processes (prefork pool)")
    parser.add_argument("--no-explain", action="store_true", help="skip the 1,000,000-row query plan")
    args = parser.parse_args()
    count = args.enrolments

    on_postgres, on_redis = harness.postgres_answers(PG_ADMIN_URL), harness.redis_answers(REDIS_URL)
    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    if on_postgres:
        database_url = f"{PG_ADMIN_URL}/{DB_NAME}"
        harness.psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME}")
        harness.psql(PG_ADMIN_URL, f"CREATE DATABASE {DB_NAME}")
    else:
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    broker_url = REDIS_URL if on_redis else "filesystem://"
    queue = f"bench-reminders-{uuid.uuid4().hex[:8]}"
    sink = SinkProcess()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stretchhub.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        **harness.production_placeholders(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://stretchhub.example",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "LOG_LEVEL": "WARNING",
    }
    if on_redis:
        env["REDIS_URL"] = CACHE_REDIS_URL
    else:
        # Production settings refuse to start without a cache Redis.
        env.pop("REDIS_URL", None)
        env["DJANGO_DEBUG"] = "1"
    os.environ.update(env)

    say("Outbox benchmark: reminders and weekly summaries")
    say(f"  database: {'PostgreSQL ' + DB_NAME if on_postgres else 'SQLite file (PostgreSQL not reachable)'}")
    say(f"  broker:   {'Redis ' + REDIS_URL if on_redis else 'filesystem (Redis not reachable)'}, queue {queue}")
    say(f"  machine:  {os.cpu_count()} CPUs; worker: celery prefork --concurrency={args.concurrency}")
    say(f"  SMTP:     aiosmtpd sink in its own process on 127.0.0.1:{sink.port}")

    worker = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)
        import django

        django.setup()
        from django.db import connection
        from django.utils import timezone

        from programs.reminders.models import OutboxMessage
        from programs.reminders.outbox import BATCH_SIZE
        from stretchhub.celery import app

        due_at = (timezone.now() - dt.timedelta(minutes=1)).replace(microsecond=0)
        say(f"\nSeeding {count:,} reminders due now")
        seed(count, due_at)

        def prepare_summaries() -> list[bytes]:
            say(f"\nScheduling {count:,} weekly summaries due now")
            summaries_due = (timezone.now() - dt.timedelta(minutes=1)).replace(microsecond=0)
            schedule_summaries(summaries_due)
            return prebuilt_summaries(1000, summaries_due)

        ratios = {}
        phases = [
            ("reminders", OutboxMessage.Kind.REMINDER, lambda: prebuilt_messages(1000), TARGET_RATIO),
            ("weekly-summary", OutboxMessage.Kind.WEEKLY_SUMMARY, prepare_summaries, SUMMARY_TARGET_RATIO),
        ]
        for name, kind, prepare, target in phases:
            messages = prepare()
            raw_count = min(count, RAW_COUNT)
            say(f"\n{name}: raw smtplib, {raw_count:,} prebuilt emails over one connection")
            say(f"  message size: {statistics.mean(len(m) for m in messages):,.0f} bytes on average")
            sink_cpu, own_cpu = cpu_seconds([sink.process.pid]), time.process_time()
            raw_rate = raw_smtplib(sink, messages, raw_count)
            say(
                f"  CPU per email: sink {per_email(cpu_seconds([sink.process.pid]) - sink_cpu, raw_count)}, "
                f"smtplib client {per_email(time.process_time() - own_cpu, raw_count)}"
            )
            say(f"  raw smtplib: {raw_rate:,.0f} emails/s")
            del messages

            say(f"\n{name}: end to end, dispatcher → broker → worker → SMTP, batches of {BATCH_SIZE}")
            worker = start_worker(env, queue, args.concurrency, workdir / f"worker-{name}.log")
            worker_pids = with_children(worker.pid)
            sink_cpu, worker_cpu = cpu_seconds([sink.process.pid]), cpu_seconds(worker_pids)
            own_cpu = time.process_time()
            e2e_rate, elapsed = end_to_end(sink, count, queue, kind)
            say(
                f"  CPU per email: sink {per_email(cpu_seconds([sink.process.pid]) - sink_cpu, count)}, "
                f"worker processes {per_email(cpu_seconds(worker_pids) - worker_cpu, count)}, "
                f"dispatcher {per_email(time.process_time() - own_cpu, count)} (PostgreSQL and Redis not counted)"
            )
            say(f"  end to end: {count:,} emails in {elapsed:.1f} s = {e2e_rate:,.0f} emails/s")
            stop_worker(worker)
            worker = None
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
            ratios[name] = (e2e_rate / raw_rate, e2e_rate, raw_rate, target)

        if on_postgres and not args.no_explain:
            say(f"\nThe due queries at {BIG_TABLE:,} enrolments")
            explain_due_queries(timezone.now())
        else:
            say("\nThe due queries at 1,000,000 enrolments: skipped (needs PostgreSQL)")

        say("")
        for name, (ratio, e2e_rate, raw_rate, target) in ratios.items():
            say(
                f"{name}: end to end {e2e_rate:,.0f} emails/s · raw smtplib {raw_rate:,.0f} emails/s · "
                f"target ≥ {target:.2f}: {'met' if ratio >= target else 'NOT met'}"
            )
        for name, (ratio, *_rest) in ratios.items():
            say(f"ratio[{name}]: {ratio:.2f} (end-to-end {name} emails/s ÷ raw smtplib emails/s of the same size)")
        say(f"ratio: {ratios['reminders'][0]:.2f} (end-to-end reminders/s ÷ raw smtplib emails/s)")
        connection.close()
    finally:
        if worker is not None:
            stop_worker(worker)
        sink.stop()
        if on_postgres:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:
                pass
            harness.psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if os.environ.get("BENCH_KEEP_LOG"):
            say(f"worker log kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
