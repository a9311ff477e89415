"""Webhooks benchmark: 10,000 events to 5 local receivers through Celery, against a plain requests.post loop.

    .venv/bin/python bench/webhooks.py [--events 10000] [--concurrency 8]

Uses PostgreSQL (a database of its own, stretchhub_bench_webhooks, created and
dropped here) and Redis as the broker (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/6, on a private queue) when they answer; otherwise a
SQLite file and the filesystem broker, and says so. Production settings
(DJANGO_DEBUG=0, the cache on BENCH_CACHE_REDIS_URL, default db 7) with
WEBHOOKS_ALLOW_PRIVATE=1, since the receivers listen on 127.0.0.1.

1. Five receivers, each an http.server in a process of its own, verify every
   POST with `standardwebhooks` and count the distinct webhook-ids verified.
2. Five partners, one endpoint each (one receiver each), 100 members each;
   N events (member.updated, spread over the members) are recorded through
   `webhooks.services.event_record`, as the services do, before the clock starts;
   then ANALYZE, as autovacuum would have done on a live database.
3. raw: one loop of `requests.post` sends N prebuilt, signed bodies (the same
   events' bodies and headers) to the five receivers in turn.
4. end to end: a real `celery worker` (prefork, --concurrency); the clock
   starts when the endpoints are kicked once per event (what the commits of N
   changes do: a sender is queued for an endpoint that has none), and stops
   when the receivers have verified N distinct ids and every delivery row
   is marked succeeded. Each delivery was claimed in the
   database (in batches, in order per member), signed, POSTed through the
   address check, and recorded with its attempt.

Prints `ratio[deliveries]` and ends with `ratio: X.XX (end-to-end deliveries/s ÷ raw requests.post/s)`; target ≥ 0.50.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import harness  # noqa: E402
from bench.reminders import start_worker, stop_worker  # noqa: E402

DB_NAME = "stretchhub_bench_webhooks"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
CACHE_REDIS_URL = os.environ.get("BENCH_CACHE_REDIS_URL", "redis://127.0.0.1:6379/7")
RECEIVERS = 5
MEMBERS_PER_PARTNER = 100
TARGET_RATIO = 0.50


def say(message: str) -> None:
    print(message, flush=True)


# -- receivers, one process each -----------------------------------------------------


def run_receiver(secret: str, port_pipe, verified, failed, epoch) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks import Webhook, WebhookVerificationError

    webhook = Webhook(secret)
    seen: set[str] = set()
    seen_epoch = [epoch.value]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                webhook.verify(body, headers)
            except WebhookVerificationError:
                with failed.get_lock():
                    failed.value += 1
            else:
                if epoch.value != seen_epoch[0]:
                    seen.clear()
                    seen_epoch[0] = epoch.value
                if headers["webhook-id"] not in seen:
                    seen.add(headers["webhook-id"])
                    with verified.get_lock():
                        verified.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_pipe.send(server.server_address[1])
    server.serve_forever()


class Receiver:
    def __init__(self, secret: str):
        self.secret = secret
        self.verified = multiprocessing.Value("i", 0)
        self.failed = multiprocessing.Value("i", 0)
        self.epoch = multiprocessing.Value("i", 0)
        ours, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=run_receiver, args=(secret, theirs, self.verified, self.failed, self.epoch), daemon=True
        )
        self.process.start()
        self.port = ours.recv()
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    def reset(self) -> None:
        # The ids the raw loop sent count again in the next run.
        self.verified.value = 0
        self.epoch.value += 1


def total(receivers, field: str) -> int:
    return sum(getattr(r, field).value for r in receivers)


# -- the two runs ----------------------------------------------------------------------


def seed(receivers: list[Receiver], count: int) -> list[int]:
    from accounts.models import Partner, User
    from webhooks import services
    from webhooks.models import WebhookEndpoint

    endpoints, members = [], []
    for n, receiver in enumerate(receivers):
        partner = Partner.objects.create(name=f"Bench partner {n}")
        endpoints.append(WebhookEndpoint.objects.create(partner=partner, url=receiver.url, secret=receiver.secret))
        members.append(
            User.objects.bulk_create(
                User(
                    username=f"bench-{n}-{m}",
                    email=f"bench-{n}-{m}@clinic.example",
                    partner=partner,
                    external_id=f"m-{m}",
                )
                for m in range(MEMBERS_PER_PARTNER)
            )
        )
    started = time.perf_counter()
    for i in range(count):
        member = members[i % RECEIVERS][(i // RECEIVERS) % MEMBERS_PER_PARTNER]
        services.event_record(type="member.updated", obj=member, member=member)
    elapsed = time.perf_counter() - started
    say(f"  recorded {count:,} events in {elapsed:.1f} s ({count / elapsed:,.0f} events/s, outside the clock)")
    return [endpoint.pk for endpoint in endpoints]


def prebuilt_requests() -> list[tuple[str, bytes, dict]]:
    from django.utils import timezone

    from webhooks import services
    from webhooks.models import WebhookDelivery

    now = timezone.now()
    prepared = []
    for delivery in WebhookDelivery.objects.select_related("event", "endpoint").order_by("event_id"):
        body = services.body_of(delivery.event)
        webhook_id = delivery.event.webhook_id
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": services.signature_header(
                delivery.endpoint, webhook_id=webhook_id, timestamp=now, body=body
            ),
            "Content-Type": "application/json",
        }
        prepared.append((delivery.endpoint.url, body, headers))
    return prepared


def raw_loop(receivers: list[Receiver], prepared) -> float:
    import requests

    started = time.perf_counter()
    for url, body, headers in prepared:
        requests.post(url, data=body, headers=headers, timeout=5, allow_redirects=False)
    while total(receivers, "verified") < len(prepared):
        time.sleep(0.001)
    return len(prepared) / (time.perf_counter() - started)


def end_to_end(receivers: list[Receiver], endpoint_ids: list[int], count: int, queue: str) -> float:
    from webhooks.models import WebhookDelivery
    from webhooks.services import endpoints_kick

    started = time.perf_counter()
    for i in range(count):
        endpoints_kick(endpoint_ids=[endpoint_ids[i % RECEIVERS]])
    queued = time.perf_counter() - started
    say(f"  kicked the endpoints {count:,} times (once per event, as the commits do) in {queued:.1f} s")
    deadline = time.monotonic() + 15 * 60
    last, last_change = -1, time.monotonic()
    while total(receivers, "verified") < count:
        done = total(receivers, "verified")
        if done != last:
            last, last_change = done, time.monotonic()
        if time.monotonic() > deadline or time.monotonic() - last_change > 60:
            raise RuntimeError(f"stalled at {done:,} of {count:,} deliveries")
        time.sleep(0.02)
    pending = WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED)
    while pending.exists():
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    succeeded = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED, attempts=1).count()
    say(f"  {total(receivers, 'verified'):,} distinct deliveries verified, {succeeded:,} rows succeeded first time")
    assert succeeded == count, "every event reaches its endpoint, once"
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8, help="worker processes (prefork pool)")
    args = parser.parse_args()
    count = args.events

    on_postgres, on_redis = harness.postgres_answers(PG_ADMIN_URL), harness.redis_answers(REDIS_URL)
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    if on_postgres:
        database_url = f"{PG_ADMIN_URL}/{DB_NAME}"
        harness.psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME}")
        harness.psql(PG_ADMIN_URL, f"CREATE DATABASE {DB_NAME}")
    else:
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    queue = f"bench-webhooks-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stretchhub.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        **harness.production_placeholders(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://stretchhub.example",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": REDIS_URL if on_redis else "filesystem://",
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "LOG_LEVEL": "WARNING",
    }
    if on_redis:
        env["REDIS_URL"] = CACHE_REDIS_URL
    else:
        env.pop("REDIS_URL", None)
        env["DJANGO_DEBUG"] = "1"
    os.environ.update(env)

    say("Webhooks benchmark")
    say(f"  database: {'PostgreSQL ' + DB_NAME if on_postgres else 'SQLite file (PostgreSQL not reachable)'}")
    say(f"  broker:   {'Redis ' + REDIS_URL if on_redis else 'filesystem (Redis not reachable)'}, queue {queue}")
    say(f"  machine:  {os.cpu_count()} CPUs; worker: celery prefork --concurrency={args.concurrency}")

    worker = None
    receivers: list[Receiver] = []
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)
        import django

        django.setup()
        from stretchhub.celery import app
        from webhooks.services import new_secret

        app.conf.task_default_queue = queue
        receivers = [Receiver(new_secret()) for _ in range(RECEIVERS)]
        say(f"  receivers: {RECEIVERS} http.server processes on ports {', '.join(str(r.port) for r in receivers)}")
        say(f"\nSeeding {count:,} events for {RECEIVERS} partners")
        # What each recorded event queues on commit goes to a queue nobody reads, purged after:
        # the timed run queues its own.
        app.conf.task_default_queue = f"{queue}-seed"
        endpoint_ids = seed(receivers, count)
        if on_postgres:
            # As autovacuum would have by the time a real backlog is sent: planner statistics for
            # the fresh tables (without them PostgreSQL picks a plan for empty tables).
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(f"{queue}-seed")
        from webhooks.services import endpoint_sender_finished

        for endpoint_id in endpoint_ids:
            # The purged senders never ran to clear their marks.
            endpoint_sender_finished(endpoint_id=endpoint_id)
        app.conf.task_default_queue = queue
        prepared = prebuilt_requests()

        say(f"\nraw: one loop of requests.post, {len(prepared):,} prebuilt signed bodies")
        raw_rate = raw_loop(receivers, prepared)
        say(f"  {raw_rate:,.0f} requests/s ({1000 / raw_rate:.2f} ms each)")
        assert total(receivers, "failed") == 0
        for receiver in receivers:
            receiver.reset()

        say(f"\nend to end: {count:,} events through Celery")
        worker = start_worker(env, queue, args.concurrency, workdir / "worker.log")
        e2e_rate = end_to_end(receivers, endpoint_ids, count, queue)
        say(f"  {e2e_rate:,.0f} deliveries/s ({1000 / e2e_rate:.2f} ms each)")
        assert total(receivers, "failed") == 0, "every delivery verifies"

        ratio = e2e_rate / raw_rate
        say(f"\nratio[deliveries]: {ratio:.2f} (end-to-end deliveries/s ÷ raw requests.post/s)")
        say(f"target ≥ {TARGET_RATIO:.2f}: {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
        say(f"ratio: {ratio:.2f} (end-to-end deliveries/s ÷ raw requests.post/s, {count:,} events, 5 receivers)")
    finally:
        if worker is not None:
            stop_worker(worker)
        for receiver in receivers:
            receiver.process.kill()
        if on_postgres:
            from django.db import connections

            connections.close_all()
            harness.psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {DB_NAME}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
