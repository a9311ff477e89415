"""Writes for programs: enrolment and tick-off (below), publishing and duplicating programs.

Every service is keyword-only; a rule that refuses a change raises an
EnrolmentError whose message is shown to the member as it is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.models import User
from stretchhub import l10n

from . import media
from .models import (
    PAIN_MAX,
    PAIN_MIN,
    Completion,
    Enrolment,
    Program,
    ProgramSession,
    SessionItem,
    Stretch,
    StretchImage,
)
from .selectors import member_local_today

# How far the start date of a new enrolment may lie from the member's today.
START_DATE_MAX_DAYS_AGO = 14
START_DATE_MAX_DAYS_AHEAD = 365
NOTE_MAX_LENGTH = 2000


class EnrolmentError(Exception):
    """A rule refused an enrolment or tick-off change; the message is user-facing."""


class AlreadyEnrolled(EnrolmentError):
    """The member already has a current (active or paused) enrolment in the program."""

    def __init__(self, enrolment: Enrolment):
        self.enrolment = enrolment
        super().__init__(_("You are already enrolled in this program."))


class EmailNotVerified(EnrolmentError):
    """The member has not confirmed their email address yet."""

    def __init__(self):
        super().__init__(_("Confirm your email address first: then you can enrol."))


def _refresh_reminders(enrolments: Iterable[Enrolment]) -> None:
    """After every enrolment or tick change: the next reminder."""
    # Imported when called: the reminders app imports the programs models and
    # selectors, and this keeps the import graph one-way at load time.
    from .reminders.services import reminder_schedule_refresh

    reminder_schedule_refresh(enrolments=list(enrolments))


def _refresh_weekly_summary(enrolment: Enrolment) -> None:
    """After an enrolment starts or ends: a member is due weekly summaries only while one is current."""
    from .reminders.weekly_summary import weekly_summary_schedule_refresh  # see _refresh_reminders

    if enrolment.member_id is None:
        return
    # The refresh reads the member afresh: no need to load them here just to pass them on.
    member = enrolment.member if Enrolment.member.is_cached(enrolment) else User(pk=enrolment.member_id)
    weekly_summary_schedule_refresh(users=[member])


def _event(type: str, obj, enrolment: Enrolment) -> None:
    """Tell the member's partner, if a partner manages them (webhooks), in the transaction of the change."""
    from webhooks.services import event_record  # see _refresh_reminders

    if enrolment.member_id is None:
        return
    if Enrolment.member.is_cached(enrolment):
        member = enrolment.member
    else:
        # Only a partner's member is loaded, and not onto the enrolment, whose
        # callers read the member afresh when they need them.
        member = User.objects.filter(pk=enrolment.member_id, partner__isnull=False).first()
    event_record(type=type, obj=obj, member=member)


def _lock(enrolment: Enrolment) -> None:
    """Reload the row under a lock so concurrent pauses, resumes and ticks serialise."""
    enrolment.refresh_from_db(from_queryset=Enrolment.objects.select_for_update())


def _today(enrolment: Enrolment, now: dt.datetime | None = None) -> dt.date:
    return member_local_today(enrolment.member, now=now)


def enrolment_member_check(*, member) -> None:
    """Refuse a member who may not enrol yet: one whose email address nobody has confirmed.

    A partner's members count as confirmed: they never sign up here (no
    password, no verification email), and the partner vouches for the address.
    """
    if member.email_verified_at is None and member.partner_id is None:
        raise EmailNotVerified()


def validate_start_date(*, start_date: dt.date, today: dt.date) -> None:
    if start_date < today - dt.timedelta(days=START_DATE_MAX_DAYS_AGO):
        raise EnrolmentError(_("The start date can be at most %(days)d days ago.") % {"days": START_DATE_MAX_DAYS_AGO})
    if start_date > today + dt.timedelta(days=START_DATE_MAX_DAYS_AHEAD):
        raise EnrolmentError(_("The start date can be at most a year ahead."))


def enrolment_create(
    *,
    member,
    program: Program,
    start_date: dt.date,
    reminder_time: dt.time | None = None,
    reminders_enabled: bool = True,
    today: dt.date | None = None,
) -> Enrolment:
    if program.status != Program.Status.PUBLISHED:
        raise EnrolmentError(_("This program is not open for enrolment."))
    enrolment_member_check(member=member)
    validate_start_date(start_date=start_date, today=today or member_local_today(member))
    existing = Enrolment.objects.filter(member=member, program=program, status__in=Enrolment.CURRENT_STATUSES).first()
    if existing is not None:
        raise AlreadyEnrolled(existing)
    with transaction.atomic():
        try:
            # The partial unique constraint decides between two simultaneous
            # enrolments; the savepoint lets us report the winner.
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    member=member,
                    program=program,
                    start_date=start_date,
                    reminder_time=reminder_time or member.default_reminder_time,
                    reminders_enabled=reminders_enabled,
                )
        except IntegrityError:
            raise AlreadyEnrolled(
                Enrolment.objects.get(member=member, program=program, status__in=Enrolment.CURRENT_STATUSES)
            ) from None
        _refresh_reminders([enrolment])
        _refresh_weekly_summary(enrolment)
        _event("enrolment.created", enrolment, enrolment)
    return enrolment


def _close_pause(enrolment: Enrolment, *, today: dt.date) -> None:
    """Turn the open pause into a finished one: the days from paused_on up to (not including) today."""
    days = max(0, (today - enrolment.paused_on).days)
    if days:
        enrolment.pauses = [*enrolment.pauses, {"started_on": enrolment.paused_on.isoformat(), "days": days}]
    enrolment.paused_on = None


def enrolment_pause(*, enrolment: Enrolment, today: dt.date | None = None) -> Enrolment:
    today = today or _today(enrolment)
    with transaction.atomic():
        _lock(enrolment)
        if enrolment.status != Enrolment.Status.ACTIVE:
            raise EnrolmentError(_("Only an active enrolment can be paused."))
        enrolment.status = Enrolment.Status.PAUSED
        enrolment.paused_on = today
        enrolment.save(update_fields=["status", "paused_on"])
        _refresh_reminders([enrolment])
        _event("enrolment.paused", enrolment, enrolment)
    return enrolment


def enrolment_resume(*, enrolment: Enrolment, today: dt.date | None = None) -> Enrolment:
    """Resume; every session not before the pause moves on by the days spent paused."""
    today = today or _today(enrolment)
    with transaction.atomic():
        _lock(enrolment)
        if enrolment.status != Enrolment.Status.PAUSED:
            raise EnrolmentError(_("Only a paused enrolment can be resumed."))
        _close_pause(enrolment, today=today)
        enrolment.status = Enrolment.Status.ACTIVE
        enrolment.save(update_fields=["status", "paused_on", "pauses"])
        _refresh_reminders([enrolment])
        _event("enrolment.resumed", enrolment, enrolment)
    return enrolment


def _end(enrolment: Enrolment, *, status: str, now: dt.datetime | None = None) -> Enrolment:
    now = now or timezone.now()
    if enrolment.paused_on is not None:
        _close_pause(enrolment, today=_today(enrolment, now))
    enrolment.status = status
    enrolment.ended_at = now
    enrolment.save(update_fields=["status", "paused_on", "pauses", "ended_at"])
    _refresh_reminders([enrolment])
    _refresh_weekly_summary(enrolment)
    _event("enrolment.left" if status == Enrolment.Status.LEFT else "enrolment.completed", enrolment, enrolment)
    return enrolment


def enrolment_leave(*, enrolment: Enrolment) -> Enrolment:
    with transaction.atomic():
        _lock(enrolment)
        if not enrolment.is_current:
            raise EnrolmentError(_("This enrolment has already ended."))
        return _end(enrolment, status=Enrolment.Status.LEFT)


def member_history_anonymise(*, member) -> None:
    """Before a member's account is deleted: keep their history, without them in it.

    Enrolments and completions stay (Enrolment.member becomes NULL with the
    account) so trainers' adherence and pain figures do not change; notes are
    free text and go. Current enrolments are left through enrolment_leave, so an
    open pause is closed the same way as when a member leaves a program.
    """
    current = Enrolment.objects.filter(member=member, status__in=Enrolment.CURRENT_STATUSES)
    for enrolment in list(current.select_related("member")):
        enrolment_leave(enrolment=enrolment)
    Enrolment.objects.filter(member=member).update(reminders_enabled=False, next_reminder_at=None)
    Completion.objects.filter(enrolment__member=member).exclude(note="").update(note="")


def enrolment_finish(*, enrolment: Enrolment) -> Enrolment:
    """Finish early: the enrolment counts as completed with the sessions done so far."""
    with transaction.atomic():
        _lock(enrolment)
        if not enrolment.is_current:
            raise EnrolmentError(_("This enrolment has already ended."))
        return _end(enrolment, status=Enrolment.Status.COMPLETED)


def enrolment_restart(*, enrolment: Enrolment, start_date: dt.date) -> Enrolment:
    """Start a finished or left program again as a new enrolment; the old one stays as history."""
    if enrolment.is_current:
        raise EnrolmentError(_("You are still enrolled in this program."))
    if enrolment.member is None:
        raise EnrolmentError(_("This enrolment belongs to a deleted account."))
    return enrolment_create(
        member=enrolment.member,
        program=enrolment.program,
        start_date=start_date,
        reminder_time=enrolment.reminder_time,
        reminders_enabled=enrolment.reminders_enabled,
    )


def enrolment_update_reminder(
    *, enrolment: Enrolment, reminder_time: dt.time | None = None, reminders_enabled: bool | None = None
) -> Enrolment:
    with transaction.atomic():
        _lock(enrolment)
        if reminder_time is not None:
            enrolment.reminder_time = reminder_time
        if reminders_enabled is not None:
            enrolment.reminders_enabled = reminders_enabled
        enrolment.save(update_fields=["reminder_time", "reminders_enabled"])
        _refresh_reminders([enrolment])
    return enrolment


def _validate_pain(value: int | None, label: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not PAIN_MIN <= value <= PAIN_MAX:
        message = {
            "before": _("Pain before must be a whole number from %(low)d to %(high)d."),
            "after": _("Pain after must be a whole number from %(low)d to %(high)d."),
        }[label]
        raise EnrolmentError(message % {"low": PAIN_MIN, "high": PAIN_MAX})


def completion_record(
    *,
    enrolment: Enrolment,
    program_session: ProgramSession,
    pain_before: int | None = None,
    pain_after: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> tuple[Completion, bool]:
    """Tick a session off: (the tick, whether this call made it). Ticking again returns the first tick unchanged.

    Due and overdue sessions may be ticked in any order; future ones may not.
    Ticking the last open session completes the enrolment.
    """
    now = now or timezone.now()
    if program_session.program_id != enrolment.program_id:
        raise EnrolmentError(_("This session is not part of the program you are enrolled in."))
    _validate_pain(pain_before, "before")
    _validate_pain(pain_after, "after")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise EnrolmentError(_("The note is too long: keep it to %(limit)d characters.") % {"limit": NOTE_MAX_LENGTH})

    with transaction.atomic():
        _lock(enrolment)
        existing = Completion.objects.filter(enrolment=enrolment, program_session=program_session).first()
        if existing is not None:
            return existing, False
        if not enrolment.is_current:
            raise EnrolmentError(_("This enrolment has ended; restart the program to tick sessions again."))
        today = _today(enrolment, now)
        falls_on = enrolment.date_of_session(program_session, today=today)
        if falls_on > today:
            raise EnrolmentError(
                _("This session is not due yet: it is planned for %(date)s.") % {"date": l10n.weekday_date(falls_on)}
            )
        try:
            # The unique (enrolment, program_session) constraint is the guarantee
            # that ticking twice is ticking once, even from two requests at once.
            with transaction.atomic():
                completion = Completion.objects.create(
                    enrolment=enrolment,
                    program_session=program_session,
                    completed_at=now,
                    pain_before=pain_before,
                    pain_after=pain_after,
                    note=note,
                )
        except IntegrityError:
            return Completion.objects.get(enrolment=enrolment, program_session=program_session), False
        _event("completion.created", completion, enrolment)
        total = ProgramSession.objects.filter(program_id=enrolment.program_id).count()
        if enrolment.completions.count() >= total:
            _end(enrolment, status=Enrolment.Status.COMPLETED, now=now)
        else:
            _refresh_reminders([enrolment])
    return completion, True


def completion_undo(*, enrolment: Enrolment, program_session: ProgramSession) -> None:
    """Remove a tick. Undoing the tick that completed the program reopens it."""
    with transaction.atomic():
        _lock(enrolment)
        if enrolment.status == Enrolment.Status.LEFT:
            raise EnrolmentError(_("You have left this program; its history can no longer change."))
        completion = Completion.objects.filter(enrolment=enrolment, program_session=program_session).first()
        if completion is None:
            return
        completion.program_session = program_session
        completion.delete()
        _event("completion.deleted", completion, enrolment)
        if enrolment.status == Enrolment.Status.COMPLETED:
            enrolment.status = Enrolment.Status.ACTIVE
            enrolment.ended_at = None
            try:
                with transaction.atomic():
                    enrolment.save(update_fields=["status", "ended_at"])
            except IntegrityError:
                raise EnrolmentError(
                    _("You have restarted this program, so this earlier run can no longer change.")
                ) from None
        _refresh_reminders([enrolment])


# --- Programs: publishing, archiving, duplicating, ordering items (trainer side) ---


class ProgramError(Exception):
    """A rule refused a change to a program; the message is shown to the trainer as it is."""


def program_publish_problems(*, program: Program) -> list[str]:
    """Why the program cannot be published yet (empty when it can)."""
    sessions = list(
        ProgramSession.objects.filter(program=program).annotate(item_count=Count("items")).order_by("week", "day")
    )
    if not sessions:
        return [_("it has no sessions yet: add at least one session with stretches")]
    problems = []
    empty = [s for s in sessions if s.item_count == 0]
    if empty:
        session_name = _("week %(week)d day %(day)d (%(title)s)")
        names = "; ".join(session_name % {"week": s.week, "day": s.day, "title": s.title} for s in empty)
        problems.append(
            _("every session needs at least one stretch, and these have none: %(names)s") % {"names": names}
        )
    # Members would see a stretch the library still treats as unfinished.
    drafts = Stretch.objects.filter(session_items__session__program=program, status=Stretch.Status.DRAFT).distinct()
    draft_names = sorted(stretch.name for stretch in drafts)
    if draft_names:
        problems.append(
            _("these stretches are still drafts, publish them first: %(names)s") % {"names": ", ".join(draft_names)}
        )
    return problems


def _lock_program(program: Program) -> None:
    program.refresh_from_db(from_queryset=Program.objects.select_for_update())


def program_publish(*, program: Program, now: dt.datetime | None = None) -> Program:
    """Open the program to members. Refused while a session is empty or a stretch is a draft."""
    with transaction.atomic():
        _lock_program(program)
        problems = program_publish_problems(program=program)
        if problems:
            raise ProgramError(
                _("“%(title)s” cannot be published: %(problems)s.")
                % {"title": program.title, "problems": "; ".join(problems)}
            )
        if program.status != Program.Status.PUBLISHED:
            program.status = Program.Status.PUBLISHED
            program.published_at = now or timezone.now()
            program.save(update_fields=["status", "published_at", "updated_at"])
    return program


def _set_status(program: Program, status: str) -> Program:
    with transaction.atomic():
        _lock_program(program)
        if program.status != status:
            program.status = status
            program.save(update_fields=["status", "updated_at"])
    return program


def program_unpublish(*, program: Program) -> Program:
    """Back to draft: hidden from the catalogue; current enrolments carry on."""
    return _set_status(program, Program.Status.DRAFT)


def program_archive(*, program: Program) -> Program:
    """Retire the program: hidden from the catalogue; current enrolments carry on."""
    return _set_status(program, Program.Status.ARCHIVED)


# --- Stretches: publishing and back to draft (trainer side) ---


def _in_published_programs(stretches: QuerySet[Stretch]) -> QuerySet[Stretch]:
    """The stretches a published program uses: members see them, so they stay published."""
    used = SessionItem.objects.filter(stretch=OuterRef("pk"), session__program__status=Program.Status.PUBLISHED)
    return stretches.filter(Exists(used))


def stretch_publish(*, stretches: QuerySet[Stretch], now: dt.datetime | None = None) -> int:
    """Publish the stretches; how many there were. Bulk, so the library's list action stays one query."""
    return stretches.update(status=Stretch.Status.PUBLISHED, updated_at=now or timezone.now())


def stretch_draft_check(*, stretch: Stretch) -> None:
    """Refuse to turn a stretch back into a draft while a published program uses it."""
    if stretch.pk is not None and _in_published_programs(Stretch.objects.filter(pk=stretch.pk)).exists():
        raise ProgramError(_("This stretch is part of a published program, so it cannot go back to draft."))


@dataclass(frozen=True)
class StretchDraftResult:
    drafted: int
    # Names of the stretches kept published because a published program uses them.
    kept: list[str]


def stretch_draft(*, stretches: QuerySet[Stretch], now: dt.datetime | None = None) -> StretchDraftResult:
    """Set the stretches back to draft, but for those a published program uses (see stretch_draft_check)."""
    in_use = _in_published_programs(stretches)
    kept = sorted(in_use.values_list("name", flat=True))
    drafted = stretches.exclude(pk__in=in_use.values("pk")).update(
        status=Stretch.Status.DRAFT, updated_at=now or timezone.now()
    )
    return StretchDraftResult(drafted=drafted, kept=kept)


def _copy_slug(slug: str) -> str:
    max_length = Program._meta.get_field("slug").max_length
    taken = set(Program.objects.filter(slug__startswith=f"{slug[: max_length - 12]}").values_list("slug", flat=True))
    for n in range(1, 10_000):
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        candidate = f"{slug[: max_length - len(suffix)]}{suffix}"
        if candidate not in taken:
            return candidate
    raise ProgramError(_("Too many copies of this program already exist."))


def _translated_columns(*fields: str) -> list[str]:
    return [f"{name}_{language}" for name in fields for language, _name in settings.LANGUAGES]


def _copied_title(program: Program) -> dict[str, str | None]:
    """The copy's title in each language the original has one in: "… (copy)", "… (Kopie)"."""
    title_max = Program._meta.get_field("title").max_length
    titles = {}
    for language, _name in settings.LANGUAGES:
        title = getattr(program, f"title_{language}")
        with translation.override(language):
            titles[f"title_{language}"] = gettext("%(title)s (copy)") % {"title": title} if title else None
        if titles[f"title_{language}"]:
            titles[f"title_{language}"] = titles[f"title_{language}"][:title_max]
    return titles


def _copy_items_sql() -> str:
    """Every item of one program's sessions into the same (week, day) of another, in one INSERT … SELECT.

    One statement whatever the program's size: each language's column makes a
    row wider, and a bulk insert of wide rows is split into several on SQLite.
    """
    quote = connection.ops.quote_name
    item, session = SessionItem._meta.db_table, ProgramSession._meta.db_table
    columns = [f.column for f in SessionItem._meta.concrete_fields if f.name not in ("id", "session", "version")]
    return (
        f"INSERT INTO {quote(item)} ({quote('session_id')}, {quote('version')}, {', '.join(map(quote, columns))}) "
        f"SELECT new.id, 1, {', '.join('i.' + quote(c) for c in columns)} FROM {quote(item)} i "
        f"JOIN {quote(session)} old ON old.id = i.session_id "
        f"JOIN {quote(session)} new ON new.program_id = %s AND new.week = old.week AND new.day = old.day "
        "WHERE old.program_id = %s"
    )


def program_duplicate(*, program: Program, author) -> Program:
    """A deep copy (sessions and their items, in every language) as a draft owned by `author`, with a new slug."""
    content = _translated_columns("title", "notes")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                texts = {name: getattr(program, name) for name in _translated_columns("summary", "goal")}
                texts.update(_copied_title(program))
                # The plain column holds the English text, as every write made in English does.
                base = {name: texts[f"{name}_{settings.LANGUAGE_CODE}"] for name in ("title", "summary", "goal")}
                copy = Program.objects.create(
                    slug=_copy_slug(program.slug),
                    level=program.level,
                    author=author,
                    status=Program.Status.DRAFT,
                    **base,
                    **texts,
                )
                sessions = list(ProgramSession.objects.filter(program=program).order_by("week", "day"))
                ProgramSession.objects.bulk_create(
                    ProgramSession(
                        program=copy,
                        week=s.week,
                        day=s.day,
                        title=s.title_en,
                        notes=s.notes_en,
                        **{name: getattr(s, name) for name in content},
                    )
                    for s in sessions
                )
                with connection.cursor() as cursor:
                    cursor.execute(_copy_items_sql(), [copy.pk, program.pk])
                return copy
        except IntegrityError:
            # Another copy took the same slug between our check and insert: pick again.
            continue
    raise ProgramError(_("Could not find a free address for the copy; please try again."))


def session_items_arrange(*, session: ProgramSession, items: Sequence[SessionItem]) -> list[SessionItem]:
    """Save the session's items (new or changed) in the given order, numbered 1, 2, 3, …

    The unique (session, order) constraint is checked row by row on both SQLite
    and PostgreSQL, so swapping two items in place would collide half-way.
    Phase one parks every existing row above all the numbers in use; phase two
    writes the final numbers, which can no longer meet a parked one. Items of
    the session not listed keep their relative order after the listed ones.
    """
    with transaction.atomic():
        ProgramSession.objects.select_for_update().filter(pk=session.pk).first()
        rows = SessionItem.objects.filter(session=session)
        top = rows.aggregate(top=Max("order"))["top"] or 0
        rows.update(order=F("order") + top + len(items) + 1)
        listed = {item.pk for item in items if item.pk}
        rest = list(rows.exclude(pk__in=listed).order_by("order"))
        arranged = [*items, *rest]
        for position, item in enumerate(arranged, start=1):
            item.session = session
            item.order = position
            if position > len(items):
                SessionItem.objects.filter(pk=item.pk).update(order=position)
            else:
                item.save()
    return arranged


def session_items_reorder(*, session: ProgramSession, item_ids: Sequence[int]) -> list[SessionItem]:
    """Put the session's items in the order of `item_ids` (which must name each of them once)."""
    by_pk = {item.pk: item for item in SessionItem.objects.filter(session=session)}
    if sorted(item_ids) != sorted(by_pk):
        raise ProgramError(_("The new order must list every stretch of the session exactly once."))
    return session_items_arrange(session=session, items=[by_pk[pk] for pk in item_ids])


# --- Stretch pictures and video ----------------------------------------------------------------------
# Files are checked (programs/media.py) before anything is written, then stored
# under new random names; a failure half-way removes what it had stored, and a
# replaced or deleted file is removed only once the row's change has committed.


def _media_name(folder: str, extension: str) -> str:
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


def _delete_files_on_commit(names: Iterable[str]) -> None:
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _image_files(image: StretchImage) -> list[str]:
    renditions = [media.rendition_name(image.image.name, w) for w in media.rendition_widths(image.width)]
    return [image.image.name, *renditions, image.svg.name]


def _clean_alt(alt: str) -> str:
    alt = " ".join(alt.split())
    if not alt:
        raise ValidationError(_("Describe what the body does in the picture (alt text)."), code="alt_required")
    return alt


def _german_text(text: str | None) -> str | None:
    # An empty German text is "not translated yet" (NULL): the page shows the English one.
    return " ".join((text or "").split()) or None


def _image_texts(image: StretchImage) -> None:
    """Tidy a picture's texts; the plain columns hold the English, as every write made in English does."""
    with translation.override(settings.LANGUAGE_CODE):
        image.alt = _clean_alt(image.alt_en or "")
        image.caption = (image.caption_en or "").strip()
    image.alt_de = _german_text(image.alt_de)
    image.caption_de = _german_text(image.caption_de)


def stretch_image_add(
    *,
    stretch: Stretch,
    alt: str,
    upload: File | None = None,
    prepared: media.PreparedImage | None = None,
    caption: str = "",
    alt_de: str | None = None,
    caption_de: str | None = None,
    side: str = "",
    order: int | None = None,
    svg: bytes | None = None,
    svg_name: str = "",
) -> StretchImage:
    """Add a picture to a stretch: stored re-encoded, with its responsive sizes, at the end unless `order` is given.

    `upload` is checked here unless the caller passes what media.image_prepare
    made of it already (`prepared`). `svg` is for trusted drawings from this
    repository only (the seed illustrations): members' and trainers' uploads are
    raster. `alt` and `caption` are the English texts, `alt_de` and `caption_de`
    the German ones (None: not translated yet). Raises ValidationError, with
    nothing stored, for a refused file.
    """
    if prepared is None:
        if upload is None:
            raise ValueError("Give the upload or what media.image_prepare made of it.")
        prepared = media.image_prepare(upload)
    alt = _clean_alt(alt)
    if side not in StretchImage.Side.values:
        raise ValidationError(_("The side must be left, right or none."), code="side")
    if svg is not None:
        media.svg_size(svg)  # a drawing without a viewBox is a mistake in the repository: fail loudly
    written: list[str] = []
    try:
        name = default_storage.save(_media_name("stretches/images", prepared.extension), ContentFile(prepared.content))
        written.append(name)
        for rendition in media.rendition_files(ContentFile(prepared.content, name=name), width=prepared.width):
            rendition.generate(force=True)
            written.append(rendition.name)
        if svg is None:
            svg_name = ""
        else:
            svg_name = default_storage.save(svg_name or _media_name("stretches/drawings", "svg"), ContentFile(svg))
            written.append(svg_name)
        with transaction.atomic():
            Stretch.objects.select_for_update().filter(pk=stretch.pk).first()
            if order is None:
                order = (StretchImage.objects.filter(stretch=stretch).aggregate(top=Max("order"))["top"] or 0) + 1
            image = StretchImage(
                stretch=stretch,
                order=order,
                image=name,
                width=prepared.width,
                height=prepared.height,
                svg=svg_name,
                alt_en=alt,
                alt_de=alt_de,
                caption_en=caption,
                caption_de=caption_de,
                side=side,
            )
            _image_texts(image)
            image.save()
            return image
    except BaseException:
        _delete_files(written)
        raise


def stretch_image_delete(*, image: StretchImage) -> None:
    """Remove a picture and, once that has committed, its files."""
    names = _image_files(image)
    with transaction.atomic():
        image.delete()
        _delete_files_on_commit(names)


def stretch_images_arrange(*, stretch: Stretch, images: Sequence[StretchImage]) -> list[StretchImage]:
    """Save the stretch's pictures (their texts changed or not) in the given order, numbered 1, 2, 3, …"""
    with transaction.atomic():
        listed = {image.pk for image in images}
        rest = list(StretchImage.objects.filter(stretch=stretch).exclude(pk__in=listed).order_by("order", "pk"))
        arranged = [*images, *rest]
        for position, image in enumerate(arranged, start=1):
            if image.stretch_id != stretch.pk:
                raise ProgramError(_("A picture can only be arranged among its own stretch's pictures."))
            _image_texts(image)
            image.order = position
            image.save()
    return arranged


def _stretch_video_replace(stretch: Stretch, **values) -> Stretch:
    old = [stretch.video.name, stretch.video_poster.name]
    with transaction.atomic():
        for name, value in values.items():
            setattr(stretch, name, value)
        stretch.save(update_fields=[*values, "updated_at"])
        _delete_files_on_commit(n for n in old if n not in values.values())
    return stretch


def stretch_video_upload(*, stretch: Stretch, video: File, poster: File) -> Stretch:
    """Give a stretch an uploaded video (MP4 or WebM) and its poster picture, in place of any video it had.

    Both files are checked before either is stored (ValidationError, nothing stored).
    """
    extension = media.video_check(video)
    prepared = media.image_prepare(poster, max_edge=media.POSTER_MAX_EDGE)
    written: list[str] = []
    try:
        video.seek(0)
        written.append(default_storage.save(_media_name("stretches/videos", extension), video))
        written.append(
            default_storage.save(_media_name("stretches/posters", prepared.extension), ContentFile(prepared.content))
        )
        return _stretch_video_replace(
            stretch,
            video=written[0],
            video_poster=written[1],
            video_poster_width=prepared.width,
            video_poster_height=prepared.height,
            video_embed_url="",
        )
    except BaseException:
        _delete_files(written)
        raise


def stretch_video_embed(*, stretch: Stretch, url: str) -> Stretch:
    """Show a YouTube or Vimeo video with the stretch, in place of any video it had (ValidationError if not one)."""
    return _stretch_video_replace(
        stretch,
        video="",
        video_poster="",
        video_poster_width=None,
        video_poster_height=None,
        video_embed_url=media.video_embed_normalise(url),
    )


def stretch_video_remove(*, stretch: Stretch) -> Stretch:
    return _stretch_video_replace(
        stretch, video="", video_poster="", video_poster_width=None, video_poster_height=None, video_embed_url=""
    )
