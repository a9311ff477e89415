import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.mail import get_connection
from django.urls import reverse

import programs.admin_adherence  # noqa: F401  (registers the adherence view)
from programs.models import Completion, Enrolment
from programs.reminders import links
from programs.reminders.models import OutboxMessage
from programs.reminders.trainer_digest import TrainerDigestKind, slipped_enrolments
from tests.factories import EnrolmentFactory, TrainerFactory, UserFactory, build_program

from .conftest import EVERY_DAY

D = dt.date
UTC = dt.UTC
KIND = TrainerDigestKind()
LEASE = dt.timedelta(minutes=10)
NOBODY_NEW = "Nobody newly slipped since the last digest."
START = D(2026, 3, 2)

pytestmark = pytest.mark.django_db


def at_8_london(day: int) -> dt.datetime:
    # Europe/London is on GMT until 29 March 2026: 08:00 local is 08:00 UTC.
    return dt.datetime(2026, 3, day, 8, 0, tzinfo=UTC)


@pytest.fixture
def program(trainer):
    return build_program(weeks=4, days=EVERY_DAY, items_per_session=1, author=trainer, title="Easy back")


def enrol(program, name, *, start=START, timezone="Europe/London"):
    member = UserFactory(username=name, display_name=name.title(), timezone=timezone, password=None)
    return EnrolmentFactory(member=member, program=program, start_date=start)


def tick(enrolment, *, at, pain_before=None, pain_after=None):
    done = enrolment.completions.values_list("program_session_id", flat=True)
    session = enrolment.program.sessions.exclude(pk__in=list(done)).order_by("week", "day").first()
    return Completion.objects.create(
        enrolment=enrolment, program_session=session, completed_at=at, pain_before=pain_before, pain_after=pain_after
    )


def run_digest(now):
    """One dispatch and one build, with the outcome marks a sender would write."""
    token = now
    while KIND.dispatch_chunk(now=now, token=token, lease_until=now + LEASE) is not None:
        pass
    rows = list(
        OutboxMessage.objects.filter(
            kind=OutboxMessage.Kind.TRAINER_DIGEST, status=OutboxMessage.Status.CLAIMED, claimed_at=token
        ).order_by("pk")
    )
    skipped = {}

    def skip(row, reason):
        skipped[row.recipient_id] = reason
        OutboxMessage.objects.filter(pk=row.pk).update(status=OutboxMessage.Status.SKIPPED, last_error=reason)

    built = KIND.build(rows, now=now, skip=skip)
    OutboxMessage.objects.filter(pk__in=[row.pk for row, _ in built]).update(
        status=OutboxMessage.Status.SENT, sent_at=now
    )
    return {row.recipient_id: email for row, email in built}, skipped


# --- Who has slipped ---------------------------------------------------------


def test_it_flags_the_same_enrolments_as_the_adherence_view(client, trainer, program, time_machine):
    now = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    tick(enrol(program, "quiet"), at=now - dt.timedelta(days=12))
    tick(enrol(program, "hurting"), at=now - dt.timedelta(days=1), pain_after=8)
    tick(enrol(program, "steady"), at=now - dt.timedelta(days=1), pain_after=2)
    enrol(program, "newcomer", start=D(2026, 3, 17))
    never = enrol(program, "never")
    resting = enrol(program, "resting")
    tick(resting, at=now - dt.timedelta(days=12))
    Enrolment.objects.filter(pk=resting.pk).update(status=Enrolment.Status.PAUSED, paused_on=D(2026, 3, 9))
    faded = enrol(program, "faded")  # high pain, but not within the week
    tick(faded, at=now - dt.timedelta(days=10), pain_after=9)
    tick(faded, at=now - dt.timedelta(days=1), pain_after=2)

    client.force_login(trainer)
    response = client.get(reverse("admin:programs_enrolment_changelist"), {"slipped": "yes"})
    flagged_by_admin = {e.pk for e in response.context["cl"].result_list}

    digest = {e.pk for e in slipped_enrolments(trainer_ids=[trainer.pk], now=now)}
    assert digest == flagged_by_admin
    assert {e.member.username for e in Enrolment.objects.filter(pk__in=digest)} == {"quiet", "hurting", "never"}
    assert never.pk in digest


# --- Newly slipped, day after day --------------------------------------------


def test_a_slipped_member_is_reported_once_and_again_after_recovering(trainer, program):
    enrolment = enrol(program, "alice")
    tick(enrolment, at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))

    sent, skipped = run_digest(at_8_london(10))
    assert sent == {} and skipped == {trainer.pk: NOBODY_NEW}

    sent, _ = run_digest(at_8_london(11))
    assert list(sent) == [trainer.pk]
    assert "Alice — Easy back" in sent[trainer.pk].body
    assert "No session done since 3 March (8 days)" in sent[trainer.pk].body

    sent, skipped = run_digest(at_8_london(12))
    assert sent == {} and skipped == {trainer.pk: NOBODY_NEW}

    tick(enrolment, at=dt.datetime(2026, 3, 12, 20, 0, tzinfo=UTC))
    for day in (13, 19):
        sent, skipped = run_digest(at_8_london(day))
        assert sent == {} and skipped == {trainer.pk: NOBODY_NEW}

    sent, _ = run_digest(at_8_london(20))
    assert "No session done since 12 March (8 days)" in sent[trainer.pk].body


def test_each_digest_stores_what_it_saw_even_when_skipped(trainer, program):
    enrolment = enrol(program, "alice")
    tick(enrolment, at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    run_digest(at_8_london(11))
    run_digest(at_8_london(12))
    rows = OutboxMessage.objects.filter(recipient=trainer).order_by("local_date")
    assert [(r.local_date, r.status, r.payload) for r in rows] == [
        (D(2026, 3, 11), OutboxMessage.Status.SENT, {"slipped": [[enrolment.pk, "inactive"]]}),
        (D(2026, 3, 12), OutboxMessage.Status.SKIPPED, {"slipped": [[enrolment.pk, "inactive"]]}),
    ]


def test_high_pain_is_reported_with_the_score_and_the_day(trainer, program):
    enrolment = enrol(program, "bob", timezone="America/New_York")
    tick(enrolment, at=dt.datetime(2026, 3, 9, 18, 0, tzinfo=UTC), pain_after=2)
    # 23:30 in New York on 10 March is already the 11th in UTC: the member's own day counts.
    tick(enrolment, at=dt.datetime(2026, 3, 11, 3, 30, tzinfo=UTC), pain_before=3, pain_after=8)

    sent, _ = run_digest(at_8_london(11))
    body = sent[trainer.pk].body
    assert "Bob — Easy back" in body
    assert "Pain 8/10 after the session on 10 March" in body
    assert "No session done" not in body


def test_a_member_who_never_ticked_is_counted_from_their_start(trainer, program):
    enrol(program, "alice", start=D(2026, 3, 2))
    sent, _ = run_digest(at_8_london(11))
    assert "No session done since starting on 2 March (9 days)" in sent[trainer.pk].body


def test_a_new_reason_for_a_member_already_reported_is_reported(trainer, program):
    enrolment = enrol(program, "alice")
    tick(enrolment, at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    run_digest(at_8_london(11))
    # Back after a long gap, and in pain: the inactivity is over, the pain is new.
    tick(enrolment, at=dt.datetime(2026, 3, 11, 18, 0, tzinfo=UTC), pain_before=7)

    sent, _ = run_digest(at_8_london(12))
    body = sent[trainer.pk].body
    assert "Pain 7/10 before the session on 11 March" in body
    assert "No session done" not in body


def test_no_email_when_nobody_slipped(trainer, program):
    tick(enrol(program, "steady"), at=at_8_london(10), pain_after=3)
    sent, skipped = run_digest(at_8_london(11))
    assert sent == {}
    assert skipped == {trainer.pk: NOBODY_NEW}
    assert OutboxMessage.objects.get(recipient=trainer).payload == {"slipped": []}


def test_only_the_trainers_own_members_appear(trainer, program):
    tick(enrol(program, "alice"), at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    other = TrainerFactory(username="tom", display_name="Tom", timezone="Europe/London")
    other_program = build_program(weeks=2, days=EVERY_DAY, items_per_session=1, author=other, title="Hips")
    tick(enrol(other_program, "zed"), at=dt.datetime(2026, 3, 10, 10, 0, tzinfo=UTC), pain_after=9)

    now = at_8_london(11)
    assert {e.member.username for e in slipped_enrolments(trainer_ids=[trainer.pk], now=now)} == {"alice"}
    sent, _ = run_digest(now)
    assert "Alice" in sent[trainer.pk].body and "Zed" not in sent[trainer.pk].body
    assert "Hips" not in sent[trainer.pk].body
    assert "Zed — Hips" in sent[other.pk].body and "Alice" not in sent[other.pk].body


# --- Who gets one, and when ----------------------------------------------------


def test_a_trainer_who_switched_it_off_gets_nothing(trainer, program):
    tick(enrol(program, "alice"), at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    trainer.trainer_digest_emails = False
    trainer.save()
    now = at_8_london(11)
    assert KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE) is None
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "author", [{"username": "member"}, {"username": "root", "is_staff": True, "is_superuser": True}], ids=str
)
def test_an_author_who_is_not_a_trainer_gets_nothing(author):
    program = build_program(weeks=2, days=EVERY_DAY, author=UserFactory(**author, password=None))
    tick(enrol(program, "alice"), at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    now = at_8_london(11)
    assert KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE) is None


def test_switching_off_after_dispatch_skips_the_row(trainer, program):
    tick(enrol(program, "alice"), at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    now = at_8_london(11)
    KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE)
    trainer.trainer_digest_emails = False
    trainer.save()
    reasons = []
    built = KIND.build(list(OutboxMessage.objects.all()), now=now, skip=lambda row, reason: reasons.append(reason))
    assert built == []
    assert reasons == ["The trainer digest was switched off, or the person is no longer a trainer."]


def test_a_second_call_in_the_same_dispatch_finds_nothing(trainer):
    now = at_8_london(11)
    rows = KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE)
    assert [(r.recipient_id, r.local_date, r.due_at, r.status) for r in rows] == [
        (trainer.pk, D(2026, 3, 11), now, OutboxMessage.Status.CLAIMED)
    ]
    assert KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE) is None
    assert OutboxMessage.objects.count() == 1


def test_a_digest_hours_late_is_dropped_not_sent_at_an_odd_hour(trainer):
    now = at_8_london(11) + dt.timedelta(hours=7)
    assert KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE) is None


@pytest.mark.parametrize(
    "day, expected_utc",
    [
        # 7 March: New York on EST (UTC−5), Berlin on CET (UTC+1), London on GMT.
        (D(2026, 3, 7), {"America/New_York": (13, 0), "Europe/Berlin": (7, 0), "Europe/London": (8, 0)}),
        # 8 March: New York's clocks went forward at 02:00 — its 08:00 is an hour earlier in UTC.
        (D(2026, 3, 8), {"America/New_York": (12, 0), "Europe/Berlin": (7, 0), "Europe/London": (8, 0)}),
        # 29 March: Europe's clocks go forward at 01:00 UTC.
        (D(2026, 3, 29), {"America/New_York": (12, 0), "Europe/Berlin": (6, 0), "Europe/London": (7, 0)}),
        # 25 October: Europe's clocks go back; 08:00 comes once.
        (D(2026, 10, 25), {"America/New_York": (12, 0), "Europe/Berlin": (7, 0), "Europe/London": (8, 0)}),
    ],
)
def test_each_trainer_gets_theirs_at_their_own_8am(day, expected_utc):
    trainers = {zone: TrainerFactory(timezone=zone, password=None) for zone in expected_utc}
    first_row = {}
    now = dt.datetime.combine(day, dt.time(0, 0), tzinfo=UTC)
    while now < dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=UTC):
        for row in KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE) or []:
            first_row.setdefault(row.recipient_id, (now, row.local_date, row.due_at))
        now += dt.timedelta(minutes=15)
    expected = {
        trainers[zone].pk: (dt.datetime.combine(day, dt.time(*hm), tzinfo=UTC), day)
        for zone, hm in expected_utc.items()
    }
    assert {pk: (seen, local_date) for pk, (seen, local_date, _) in first_row.items()} == expected
    assert all(seen == due_at for seen, _, due_at in first_row.values())
    assert OutboxMessage.objects.count() == len(trainers)


# --- Queries -------------------------------------------------------------------


@pytest.mark.parametrize("trainer_count", [1, 8])
def test_dispatch_queries_do_not_grow_with_trainers(trainer_count, django_assert_num_queries):
    for _ in range(trainer_count):
        TrainerFactory(timezone="Europe/London", password=None)
    TrainerFactory(timezone="America/New_York", password=None)  # not due yet
    now = at_8_london(11)
    with django_assert_num_queries(3):
        rows = KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE)
    assert len(rows) == trainer_count
    with django_assert_num_queries(2):
        assert KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE) is None


@pytest.mark.parametrize("trainer_count, members_each", [(1, 1), (4, 5)])
def test_build_queries_do_not_grow_with_trainers_or_members(trainer_count, members_each, django_assert_num_queries):
    for t in range(trainer_count):
        author = TrainerFactory(timezone="Europe/London", password=None)
        program = build_program(weeks=2, days=EVERY_DAY, items_per_session=1, author=author)
        for m in range(members_each):
            enrolment = enrol(program, f"m{t}x{m}")
            tick(enrolment, at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC), pain_after=8 if m % 2 else None)
    # Yesterday's digests, for the comparison.
    run_digest(at_8_london(10))
    now = at_8_london(11)
    KIND.dispatch_chunk(now=now, token=now, lease_until=now + LEASE)
    rows = list(OutboxMessage.objects.filter(local_date=D(2026, 3, 11)))
    with django_assert_num_queries(4):
        built = KIND.build(rows, now=now, skip=lambda row, reason: None)
    assert len(built) == trainer_count
    assert all(email.body.count("No session done since 3 March") == members_each for _, email in built)


# --- The email -------------------------------------------------------------------


def test_the_email_through_smtp(client, smtp_sink, trainer, program):
    enrolment = enrol(program, "alice")
    tick(enrolment, at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    other = enrol(build_program(weeks=1, days=EVERY_DAY, author=TrainerFactory(), title="Other"), "zed")
    tick(other, at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC))

    sent, _ = run_digest(at_8_london(11))
    connection = get_connection()
    assert connection.send_messages([sent[trainer.pk]]) == 1

    [received] = [r for r in smtp_sink.received if r.rcpt_tos == [trainer.email]]
    message = received.message
    assert message["Subject"] == "Alice needs a look: your StretchHub digest for Wednesday 11 March"
    assert message["To"] == trainer.email
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Long headers come back folded: the value starts after the folding whitespace.
    unsubscribe = message["List-Unsubscribe"].strip().removeprefix("<").removesuffix(">")
    assert unsubscribe.startswith(settings.SITE_URL)

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hi Tina Trainer," in text
    assert "Alice — Easy back" in text
    assert "No session done since 3 March (8 days)" in text
    assert "Zed" not in text and "Zed" not in html
    admin_url = next(line.split(": ", 1)[1] for line in text.splitlines() if "See their adherence" in line)
    assert admin_url.startswith(settings.SITE_URL + "/admin/")
    assert "Alice" in html and "No session done since 3 March (8 days)" in html
    assert admin_url.replace("&", "&amp;") in html
    assert unsubscribe in text and unsubscribe in html

    # The admin link opens the trainer's adherence view on that member alone.
    client.force_login(trainer)
    response = client.get(admin_url.removeprefix(settings.SITE_URL))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [enrolment]

    # One click (a POST without cookies, RFC 8058) switches the digest off.
    response = client.post(urlsplit(unsubscribe).path)
    assert response.status_code == 200
    trainer.refresh_from_db()
    assert trainer.trainer_digest_emails is False
    assert str(links.PREFERENCES["trainer_digest_emails"]) in response.content.decode()
