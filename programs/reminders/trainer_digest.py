"""The trainer digest: a daily email at 08:00 in the trainer's zone about members who newly slipped.

Rule (docs/trainer-digest.md): a member of one of the trainer's programs has
slipped when the trainers' adherence view flags them (programs/admin_adherence.py:
no session done for 7 days while active for a week or more, or a pain score of
7 or more in the last week). Each digest row records in its payload the
(enrolment, reason) pairs it saw; the next digest reports only the pairs its
predecessor did not see, and none is sent when there are none.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from urllib.parse import urlencode

from django.core.mail import EmailMultiAlternatives
from django.db.models import BooleanField, ExpressionWrapper, JSONField, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from accounts.models import User
from programs.admin_adherence import HIGH_PAIN, SLIPPED_AFTER_DAYS, adherence_queryset
from programs.models import PAIN_MAX, Completion, Enrolment
from stretchhub import l10n
from stretchhub.i18n import user_language

from . import due, emails, links, outbox
from .models import OutboxMessage

DIGEST_TIME = dt.time(8, 0)
PREFERENCE = "trainer_digest_emails"

INACTIVE = "inactive"
PAIN = "pain"

Pair = tuple[int, str]  # (enrolment id, reason)


# --- Selectors -------------------------------------------------------------


# Who gets the digest: a trainer (User.is_trainer, in SQL) who is active, has
# an email address and has the digest switched on.
WANTS_DIGEST = Q(is_staff=True, is_superuser=False, is_active=True, trainer_digest_emails=True) & ~Q(email="")


def digest_trainers() -> QuerySet[User]:
    return User.objects.filter(WANTS_DIGEST)


def slipped_enrolments(*, trainer_ids: Iterable[int], now: dt.datetime) -> QuerySet[Enrolment]:
    """Enrolments in these trainers' programs that the adherence view flags as slipped, in one query.

    The flag is the adherence view's own (adherence_queryset), so the digest and
    the admin never disagree. Added here only what the email says about a pain
    flag: the latest score of HIGH_PAIN or more in the same window.
    """
    high_pain = Completion.objects.filter(
        Q(pain_before__gte=HIGH_PAIN) | Q(pain_after__gte=HIGH_PAIN),
        enrolment=OuterRef("pk"),
        completed_at__gte=now - dt.timedelta(days=SLIPPED_AFTER_DAYS),
    ).order_by("-completed_at")
    enrolments = Enrolment.objects.filter(program__author_id__in=list(trainer_ids)).select_related("member", "program")
    return (
        adherence_queryset(enrolments, now=now)
        .filter(slipped=True)
        .annotate(
            high_pain_at=Subquery(high_pain.values("completed_at")[:1]),
            high_pain_before=Subquery(high_pain.values("pain_before")[:1]),
            high_pain_after=Subquery(high_pain.values("pain_after")[:1]),
        )
        .order_by("program__title_en", "member__display_name", "member__username", "pk")
    )


def slipped_reasons(enrolment: Enrolment) -> list[str]:
    reasons = []
    if enrolment.inactive:
        reasons.append(INACTIVE)
    if enrolment.high_pain_recently:
        reasons.append(PAIN)
    return reasons


def _previous_payloads(messages: list[OutboxMessage]) -> dict[int, dict]:
    """Each row's predecessor's payload: the trainer's latest earlier digest that computed one (any status)."""
    previous = OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.TRAINER_DIGEST,
        recipient_id=OuterRef("recipient_id"),
        enrolment__isnull=True,
        local_date__lt=OuterRef("local_date"),
        payload__has_key="slipped",
    ).order_by("-local_date")
    rows = OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).annotate(
        previous_payload=Subquery(previous.values("payload")[:1], output_field=JSONField())
    )
    return {pk: payload or {} for pk, payload in rows.values_list("pk", "previous_payload")}


def _pairs(payload: dict) -> set[Pair]:
    return {(int(enrolment_id), str(reason)) for enrolment_id, reason in payload.get("slipped", [])}


# --- What the email says ---------------------------------------------------


def _day_label(date: dt.date) -> str:
    return l10n.day_month(date)


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def change_text(enrolment: Enrolment, reason: str, *, now: dt.datetime) -> str:
    """One line on what changed, in the member's own dates (their schedule's days)."""
    tz = due.zone(enrolment.member.timezone) if enrolment.member else dt.UTC
    today = now.astimezone(tz).date()
    if reason == PAIN:
        when = _day_label(enrolment.high_pain_at.astimezone(tz).date())
        if enrolment.high_pain_after is not None and enrolment.high_pain_after >= HIGH_PAIN:
            return gettext("pain %(score)d/%(max)d after the session on %(date)s") % {
                "score": enrolment.high_pain_after,
                "max": PAIN_MAX,
                "date": when,
            }
        return gettext("pain %(score)d/%(max)d before the session on %(date)s") % {
            "score": enrolment.high_pain_before,
            "max": PAIN_MAX,
            "date": when,
        }
    if enrolment.last_activity is None:
        since = enrolment.start_date
        return gettext("no session done since starting on %(date)s (%(days)s)") % {
            "date": _day_label(since),
            "days": _days((today - since).days),
        }
    since = enrolment.last_activity.astimezone(tz).date()
    return gettext("no session done since %(date)s (%(days)s)") % {
        "date": _day_label(since),
        "days": _days((today - since).days),
    }


def adherence_url(*, changelist: str, enrolment: Enrolment) -> str:
    """The trainers' adherence view, filtered to this member in this program."""
    query = {"program__id__exact": enrolment.program_id}
    if enrolment.member_id is not None:
        query["member__id__exact"] = enrolment.member_id
    else:
        query["id__exact"] = enrolment.pk
    return links.absolute(f"{changelist}?{urlencode(query)}")


def digest_entry(enrolment: Enrolment, *, reasons: list[str], changelist: str, now: dt.datetime) -> dict:
    return {
        "member_name": str(enrolment.member) if enrolment.member else gettext("(deleted account)"),
        "program_title": enrolment.program.title,
        "changes": [change_text(enrolment, reason, now=now) for reason in reasons],
        "admin_url": adherence_url(changelist=changelist, enrolment=enrolment),
    }


def digest_message(
    *, message: OutboxMessage, trainer: User, entries: list[dict], slipped_url: str
) -> EmailMultiAlternatives:
    unsubscribe_url = links.preference_unsubscribe_url(user_id=trainer.pk, preference=PREFERENCE)
    context = {
        "trainer_name": trainer.display_name or trainer.username,
        "entries": entries,
        "count": len(entries),
        "local_date": message.local_date,
        "date_label": l10n.weekday_date(message.local_date),
        "digest_time": l10n.time_of_day(DIGEST_TIME),
        "slipped_url": slipped_url,
        "unsubscribe_url": unsubscribe_url,
        "settings_url": links.settings_url(),
    }
    return emails.outbox_email(
        template="trainer_digest", context=context, to=trainer.email, message=message, unsubscribe_url=unsubscribe_url
    )


# --- The message kind ------------------------------------------------------


class TrainerDigestKind:
    kind = OutboxMessage.Kind.TRAINER_DIGEST

    def dispatch_chunk(
        self, *, now: dt.datetime, token: dt.datetime, lease_until: dt.datetime
    ) -> list[OutboxMessage] | None:
        """Rows for trainers whose 08:00 of their local today has come, in three queries.

        Trainers are few (tens to hundreds), so there is no stored next instant:
        each one's 08:00 is worked out from their zone on every call. Only
        trainers with no row for that date yet get one, so a second call in the
        same dispatch finds nobody and returns None. Two dispatchers at once may
        both try a trainer: the unique (recipient, kind, local date) constraint
        lets one row in and the other insert does nothing, so the trainers are
        not locked (that would hold up their logins for no gain).
        """
        due_by_trainer: dict[int, tuple[dt.date, dt.datetime]] = {}
        for trainer_id, zone in digest_trainers().values_list("pk", "timezone"):
            tz = due.zone(zone)
            local_date = due.local_date_of(now, tz)
            at = due.reminder_instant(local_date=local_date, reminder_time=DIGEST_TIME, tz=tz)
            # Past the missed-after window the day's digest is dropped rather than
            # mailed at an odd hour; tomorrow's compares against the last one made.
            if at <= now and now - at <= outbox.missed_after():
                due_by_trainer[trainer_id] = (local_date, at)
        if not due_by_trainer:
            return None
        existing = set(
            OutboxMessage.objects.filter(
                kind=self.kind,
                recipient_id__in=list(due_by_trainer),
                enrolment__isnull=True,
                local_date__in={local_date for local_date, _ in due_by_trainer.values()},
            ).values_list("recipient_id", "local_date")
        )
        missing = [
            (trainer_id, local_date, at)
            for trainer_id, (local_date, at) in sorted(due_by_trainer.items())
            if (trainer_id, local_date) not in existing
        ][: outbox.CHUNK]
        if not missing:
            return None
        rows = [
            outbox.new_row(
                kind=self.kind,
                recipient_id=trainer_id,
                local_date=local_date,
                due_at=at,
                token=token,
                lease_until=lease_until,
                now=now,
            )
            for trainer_id, local_date, at in missing
        ]
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        return rows

    def build(
        self,
        messages: list[OutboxMessage],
        *,
        now: dt.datetime,
        skip: Callable[[OutboxMessage, str], None],
    ) -> list[tuple[OutboxMessage, EmailMultiAlternatives]]:
        """Work out who newly slipped for each trainer, now; four queries for the batch."""
        if not messages:
            return []
        trainers = {
            t.pk: t
            for t in User.objects.filter(pk__in={m.recipient_id for m in messages}).annotate(
                wants_digest=ExpressionWrapper(WANTS_DIGEST, output_field=BooleanField())
            )
        }
        computing = []
        for message in messages:
            if not trainers[message.recipient_id].wants_digest:
                skip(message, "The trainer digest was switched off, or the person is no longer a trainer.")
            else:
                computing.append(message)
        if not computing:
            return []

        by_trainer: dict[int, list[Enrolment]] = defaultdict(list)
        for enrolment in slipped_enrolments(trainer_ids={m.recipient_id for m in computing}, now=now):
            by_trainer[enrolment.program.author_id].append(enrolment)
        previous = _previous_payloads(computing)
        changelist = reverse("admin:programs_enrolment_changelist")
        slipped_url = links.absolute(f"{changelist}?slipped=yes")

        built = []
        for message in computing:
            enrolments = by_trainer.get(message.recipient_id, [])
            current = {(e.pk, reason) for e in enrolments for reason in slipped_reasons(e)}
            new = current - _pairs(previous.get(message.pk, {}))
            message.payload = {"slipped": sorted([list(pair) for pair in current])}
            trainer = trainers[message.recipient_id]
            # In the trainer's language, whatever the members' (their program content too).
            with translation.override(user_language(trainer)):
                entries = []
                for enrolment in enrolments:
                    reasons = [reason for reason in slipped_reasons(enrolment) if (enrolment.pk, reason) in new]
                    if reasons:
                        entries.append(digest_entry(enrolment, reasons=reasons, changelist=changelist, now=now))
                if not entries:
                    skip(message, "Nobody newly slipped since the last digest.")
                    continue
                built.append(
                    (
                        message,
                        digest_message(message=message, trainer=trainer, entries=entries, slipped_url=slipped_url),
                    )
                )
        # The next digest compares against this set whatever becomes of this
        # email (sent, skipped because nobody was new, failed), so it is
        # written here, where it was worked out, for the whole batch in one
        # query; the pipeline only writes the outcome columns. A retry builds
        # again and computes the same comparison (against earlier dates only).
        OutboxMessage.objects.bulk_update(computing, ["payload"])
        return built
