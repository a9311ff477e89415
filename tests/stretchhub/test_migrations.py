"""Moving a model to another app keeps its rows.

IdempotencyRecord moved from accounts to api, ReminderDelivery from programs to
reminders, where it became the outbox (OutboxMessage): its rows are reminders
for their enrolment's member.

Each test migrates back to before the moves, writes rows through the models as
they were then, migrates forward and reads the same rows through today's models.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from programs.models import Enrolment
from programs.reminders.models import OutboxMessage
from stretchhub.api.models import IdempotencyRecord

pytestmark = pytest.mark.django_db(transaction=True)

# The last migrations before the moves; api and reminders had none.
BEFORE_MOVES = [
    ("accounts", "0002_api_tokens_idempotency"),
    ("programs", "0003_prescription_check_rejects_neither"),
    ("api", None),
    ("reminders", None),
]
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def old_apps():
    """The models as they were before the moves; the database is migrated back to them, and forward after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_MOVES)
    yield executor.loader.project_state([node for node in BEFORE_MOVES if node[1]]).apps
    _migrate_to_latest()


def _enrolment(apps):
    user = apps.get_model("accounts", "User").objects.create(username="alice", email="alice@example.com")
    program = apps.get_model("programs", "Program").objects.create(
        title="Desk reset", slug="desk-reset", summary="", goal="", author=None
    )
    return apps.get_model("programs", "Enrolment").objects.create(
        member=user, program=program, start_date=dt.date(2026, 3, 1), reminder_time=dt.time(8, 0)
    )


def test_it_knows_the_old_models_before_the_moves(old_apps):
    assert old_apps.get_model("accounts", "IdempotencyRecord")._meta.db_table == "accounts_idempotencyrecord"
    assert old_apps.get_model("programs", "ReminderDelivery")._meta.db_table == "programs_reminderdelivery"
    with pytest.raises(LookupError):
        old_apps.get_model("reminders", "ReminderDelivery")


def test_it_keeps_reminder_deliveries_and_their_enrolment(old_apps):
    enrolment = _enrolment(old_apps)
    OldDelivery = old_apps.get_model("programs", "ReminderDelivery")
    sent = OldDelivery.objects.create(
        enrolment=enrolment,
        local_date=dt.date(2026, 3, 1),
        status="sent",
        due_at=NOW,
        claimed_at=NOW,
        sent_at=NOW + dt.timedelta(seconds=3),
        attempts=1,
    )
    retrying = OldDelivery.objects.create(
        enrolment=enrolment, local_date=dt.date(2026, 3, 2), status="retrying", due_at=NOW, attempts=2, last_error="421"
    )

    _migrate_to_latest()

    rows = {row.pk: row for row in OutboxMessage.objects.select_related("enrolment")}
    assert set(rows) == {sent.pk, retrying.pk}
    assert rows[sent.pk].enrolment == Enrolment.objects.get(pk=enrolment.pk)
    assert (rows[sent.pk].local_date, rows[sent.pk].status, rows[sent.pk].sent_at, rows[sent.pk].attempts) == (
        dt.date(2026, 3, 1),
        OutboxMessage.Status.SENT,
        NOW + dt.timedelta(seconds=3),
        1,
    )
    assert (rows[retrying.pk].status, rows[retrying.pk].attempts, rows[retrying.pk].last_error) == (
        "retrying",
        2,
        "421",
    )
    assert list(Enrolment.objects.get(pk=enrolment.pk).outbox_messages.order_by("pk")) == [
        rows[sent.pk],
        rows[retrying.pk],
    ]
    assert {(row.kind, row.recipient_id) for row in rows.values()} == {
        (OutboxMessage.Kind.REMINDER, enrolment.member_id)
    }


def test_it_drops_deliveries_whose_member_deleted_their_account(old_apps):
    enrolment = _enrolment(old_apps)
    old_apps.get_model("programs", "ReminderDelivery").objects.create(
        enrolment=enrolment, local_date=dt.date(2026, 3, 1), due_at=NOW
    )
    old_apps.get_model("programs", "Enrolment").objects.filter(pk=enrolment.pk).update(member=None)

    _migrate_to_latest()

    assert not OutboxMessage.objects.exists()


def test_it_keeps_the_one_reminder_per_day_claim_after_the_move(old_apps):
    enrolment = _enrolment(old_apps)
    old_apps.get_model("programs", "ReminderDelivery").objects.create(
        enrolment=enrolment, local_date=dt.date(2026, 3, 1), due_at=NOW
    )

    _migrate_to_latest()

    # The dispatcher's claim: a second row for the same enrolment and day is dropped.
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                enrolment_id=enrolment.pk, recipient_id=enrolment.member_id, local_date=dt.date(2026, 3, 1), due_at=NOW
            )
        ],
        ignore_conflicts=True,
    )
    assert OutboxMessage.objects.count() == 1


def test_it_deletes_deliveries_with_their_enrolment_after_the_move(old_apps):
    enrolment = _enrolment(old_apps)
    old_apps.get_model("programs", "ReminderDelivery").objects.create(
        enrolment=enrolment, local_date=dt.date(2026, 3, 1), due_at=NOW
    )

    _migrate_to_latest()

    Enrolment.objects.filter(pk=enrolment.pk).delete()
    assert not OutboxMessage.objects.exists()


def test_it_keeps_permissions_granted_on_reminder_deliveries(old_apps):
    OldContentType = old_apps.get_model("contenttypes", "ContentType")
    Permission = old_apps.get_model("auth", "Permission")
    old_type = OldContentType.objects.get(app_label="programs", model="reminderdelivery")
    group = old_apps.get_model("auth", "Group").objects.create(name="Support")
    group.permissions.add(Permission.objects.get(content_type=old_type, codename="view_reminderdelivery"))

    _migrate_to_latest()
    ContentType.objects.clear_cache()

    assert ContentType.objects.get_for_model(OutboxMessage).pk == old_type.pk
    granted = Group.objects.get(name="Support").permissions.get()
    assert (granted.content_type.app_label, granted.codename) == ("reminders", "view_outboxmessage")
    assert not ContentType.objects.filter(app_label="programs", model="reminderdelivery").exists()


def test_it_keeps_idempotency_records(old_apps):
    member = old_apps.get_model("accounts", "User").objects.create(username="alice", email="alice@example.com")
    record = old_apps.get_model("accounts", "IdempotencyRecord").objects.create(
        caller_kind="member",
        caller_id=member.pk,
        key="3f1c0b6e-retry",
        fingerprint="a" * 64,
        status_code=201,
        response_body={"id": 7, "status": "active"},
    )

    _migrate_to_latest()

    moved = IdempotencyRecord.objects.get()
    assert moved.pk == record.pk
    assert (moved.caller_kind, moved.caller_id, moved.key, moved.fingerprint) == (
        IdempotencyRecord.CallerKind.MEMBER,
        member.pk,
        "3f1c0b6e-retry",
        "a" * 64,
    )
    assert (moved.status_code, moved.response_body, moved.created_at) == (
        201,
        {"id": 7, "status": "active"},
        record.created_at,
    )
    assert User.objects.get(pk=member.pk).username == "alice"


def test_it_keeps_the_key_unique_per_caller_after_the_move(old_apps):
    old_apps.get_model("accounts", "IdempotencyRecord").objects.create(
        caller_kind="partner", caller_id=1, key="k", fingerprint="f" * 64, status_code=200
    )

    _migrate_to_latest()

    with pytest.raises(IntegrityError):
        IdempotencyRecord.objects.create(
            caller_kind="partner", caller_id=1, key="k", fingerprint="e" * 64, status_code=0
        )
