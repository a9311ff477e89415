"""Reads shared by the pages, the admin and the API.

Catalogue and program-structure selectors first; member selectors follow.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from . import media, schedule
from .models import BodyArea, Completion, Enrolment, Program, ProgramSession, SessionItem, Stretch, StretchImage

# Seconds one slow repetition takes, for the "about N minutes" estimate.
SECONDS_PER_REP = 8
# Getting into position and reading the next step, per stretch.
SETUP_SECONDS = 15


def program_with_shape(queryset: QuerySet[Program] | None = None) -> QuerySet[Program]:
    """Programs annotated with `weeks` (last week with a session) and `session_count`."""
    queryset = Program.objects.all() if queryset is None else queryset
    return queryset.annotate(weeks=Max("sessions__week"), session_count=Count("sessions", distinct=True))


def programs_published() -> QuerySet[Program]:
    return program_with_shape(Program.objects.filter(status=Program.Status.PUBLISHED)).order_by("title")


def programs_touching_body_area(queryset: QuerySet[Program], *, body_area: BodyArea) -> QuerySet[Program]:
    """Programs with at least one stretch for the body area (EXISTS, so no duplicate rows)."""
    uses_area = SessionItem.objects.filter(session__program=OuterRef("pk"), stretch__body_areas=body_area)
    return queryset.filter(Exists(uses_area))


AREA_NAME_FIELDS = [f"name_{code}" for code, _name in settings.LANGUAGES]
AREA_NAME_COLUMNS = [f"bodyarea__{name}" for name in AREA_NAME_FIELDS]


def body_areas_by_program(programs: Iterable[Program]) -> dict[int, list[BodyArea]]:
    """Body areas worked by each program's stretches, in one query."""
    ids = [p.pk for p in programs]
    if not ids:
        return {}
    through = Stretch.body_areas.through
    rows = (
        through.objects.filter(stretch__session_items__session__program_id__in=ids)
        .values_list("stretch__session_items__session__program_id", "bodyarea_id", "bodyarea__slug", *AREA_NAME_COLUMNS)
        .distinct()
    )
    areas: dict[int, dict[int, BodyArea]] = defaultdict(dict)
    for program_id, area_id, slug, *names in rows:
        # Every language's name, so the area reads in whichever is active (programs/translation.py).
        areas[program_id][area_id] = BodyArea(pk=area_id, slug=slug, **dict(zip(AREA_NAME_FIELDS, names, strict=True)))
    return {pid: sorted(found.values(), key=lambda a: a.name) for pid, found in areas.items()}


@dataclass
class ProgramCard:
    program: Program
    weeks: int
    session_count: int
    body_areas: list[BodyArea]

    @property
    def sessions_per_week(self) -> int:
        return round(self.session_count / self.weeks) if self.weeks else 0


def program_cards(queryset: QuerySet[Program]) -> list[ProgramCard]:
    """Cards for listing pages: two queries whatever the number of programs."""
    programs = list(queryset)
    areas = body_areas_by_program(programs)
    return [
        ProgramCard(
            program=p,
            weeks=p.weeks or 0,
            session_count=p.session_count,
            body_areas=areas.get(p.pk, []),
        )
        for p in programs
    ]


def session_items_prefetch() -> Prefetch:
    return Prefetch(
        "items",
        queryset=SessionItem.objects.select_related("stretch")
        .prefetch_related("stretch__body_areas", "stretch__images")
        .order_by("order"),
    )


def item_seconds(item: SessionItem) -> int:
    sides = 2 if item.per_side else 1
    work = item.hold_seconds if item.hold_seconds else (item.reps or 0) * SECONDS_PER_REP
    bouts = item.sets * sides
    return SETUP_SECONDS + bouts * work + (bouts - 1) * item.rest_seconds


@dataclass
class DayPlan:
    day: int
    day_number: int
    session: ProgramSession | None
    items: list[SessionItem] = field(default_factory=list)
    minutes: int = 0

    @property
    def is_rest(self) -> bool:
        return self.session is None


@dataclass
class WeekPlan:
    week: int
    days: list[DayPlan]

    @property
    def session_count(self) -> int:
        return sum(1 for d in self.days if not d.is_rest)


@dataclass
class ProgramPage:
    program: Program
    weeks: list[WeekPlan]
    stretches: list[Stretch]
    body_areas: list[BodyArea]
    session_count: int

    @property
    def week_count(self) -> int:
        return len(self.weeks)

    @property
    def sessions_per_week(self) -> int:
        return round(self.session_count / self.week_count) if self.week_count else 0

    @property
    def typical_minutes(self) -> int:
        minutes = sorted(d.minutes for w in self.weeks for d in w.days if not d.is_rest)
        return minutes[len(minutes) // 2] if minutes else 0


@cache
def _stamp_sql() -> str:
    # Written out once: compiling the same query through the ORM cost more than building the detail.
    tables = (ProgramSession, SessionItem, Stretch, BodyArea, StretchImage)
    session, item, stretch, area, image = (m._meta.db_table for m in tables)
    link = Stretch.body_areas.through._meta.db_table
    user = Program._meta.get_field("author").related_model._meta.db_table
    parts = ("sessions", "items", "stretches", "areas", "images")
    counts = ", ".join(
        f"(SELECT COUNT(*) FROM {t}), (SELECT SUM(version) FROM {t}), (SELECT MAX(id) FROM {t})" for t in parts
    )
    return f"""
        WITH program AS (
            SELECT p.id, p.version, u.display_name, u.username
            FROM {Program._meta.db_table} p LEFT JOIN {user} u ON u.id = p.author_id
            WHERE p.slug = %s AND p.status = %s
        ),
        sessions AS (SELECT s.id, s.version FROM {session} s WHERE s.program_id IN (SELECT id FROM program)),
        items AS (
            SELECT i.id, i.version, i.stretch_id FROM {item} i WHERE i.session_id IN (SELECT id FROM sessions)
        ),
        stretches AS (SELECT st.id, st.version FROM {stretch} st WHERE st.id IN (SELECT stretch_id FROM items)),
        links AS (SELECT l.id, l.bodyarea_id FROM {link} l WHERE l.stretch_id IN (SELECT id FROM stretches)),
        areas AS (SELECT a.id, a.version FROM {area} a WHERE a.id IN (SELECT bodyarea_id FROM links)),
        images AS (SELECT im.id, im.version FROM {image} im WHERE im.stretch_id IN (SELECT id FROM stretches))
        SELECT program.*, {counts}, (SELECT COUNT(*) FROM links), (SELECT MAX(id) FROM links) FROM program
    """


def program_detail_stamp(*, slug: str) -> tuple:
    """What a published program's detail is made of, read in one query; any write to it changes the stamp.

    The program's row (its version and its author's name), then for its
    sessions, items, stretches, their body areas and their pictures: how many rows, the sum of
    their versions (every write adds one: CatalogueModel) and the highest id;
    for the links between stretches and body areas, how many and the highest id.
    Raises Program.DoesNotExist for an unknown slug or an unpublished program.
    """
    with connection.cursor() as cursor:
        cursor.execute(_stamp_sql(), [slug, Program.Status.PUBLISHED])
        row = cursor.fetchone()
    if row is None:
        raise Program.DoesNotExist(f"No published program has the slug {slug!r}.")
    return row


def program_page(*, slug: str, include_unpublished: bool = False) -> ProgramPage:
    """Everything the program page shows, in five queries: the program with its author,
    its sessions, their items with the stretch, and the stretches' body areas and pictures.

    Raises Program.DoesNotExist for an unknown slug, or for a draft or archived
    program unless `include_unpublished` (the staff preview).
    """
    programs = Program.objects.select_related("author")
    if not include_unpublished:
        programs = programs.filter(status=Program.Status.PUBLISHED)
    program = programs.get(slug=slug)
    sessions = list(ProgramSession.objects.filter(program=program).order_by("week", "day"))
    items = SessionItem.objects.filter(session_id__in=[s.pk for s in sessions]).select_related("stretch")
    return program_plan(program, sessions=sessions, items=list(items.order_by("order")))


def program_plan(program: Program, *, sessions: list[ProgramSession], items: list[SessionItem]) -> ProgramPage:
    """Lay a program's sessions (by week, day) and items (in order) out as weeks of seven days, rest days included.

    Plain lists rather than nested prefetches: the prefetch machinery cost more
    than the queries for a 12-week program's ~150 items.
    """
    items_of: dict[int, list[SessionItem]] = defaultdict(list)
    for item in items:
        items_of[item.session_id].append(item)
    # One instance per stretch (select_related made one per item), then one query each for their
    # body areas and their pictures.
    stretches: dict[int, Stretch] = {}
    for session in sessions:
        for item in items_of[session.pk]:
            item.stretch = stretches.setdefault(item.stretch_id, item.stretch)
    prefetch_related_objects(list(stretches.values()), "body_areas", "images")
    areas = {area.pk: area for stretch in stretches.values() for area in stretch.body_areas.all()}
    by_slot = {(s.week, s.day): s for s in sessions}
    last_week = max((s.week for s in sessions), default=0)
    weeks = []
    for week in range(1, last_week + 1):
        days = []
        for day in range(1, schedule.DAYS_PER_WEEK + 1):
            session = by_slot.get((week, day))
            items = items_of[session.pk] if session else []
            days.append(
                DayPlan(
                    day=day,
                    day_number=schedule.day_number(week=week, day=day),
                    session=session,
                    items=items,
                    minutes=max(1, round(sum(item_seconds(i) for i in items) / 60)) if items else 0,
                )
            )
        weeks.append(WeekPlan(week=week, days=days))
    return ProgramPage(
        program=program,
        weeks=weeks,
        stretches=list(stretches.values()),
        body_areas=sorted(areas.values(), key=lambda a: a.name),
        session_count=len(sessions),
    )


# --- The printable handout (docs/handout.md) --------------------------------------------------


@dataclass
class HandoutStretch:
    """One stretch as the handout prints it, with the amounts to do as the pages say them."""

    stretch: Stretch
    doses: list[str]
    note: str = ""

    @property
    def figures(self) -> list[tuple[str, StretchImage]]:
        """(stored file name, picture) for each of the stretch's pictures, from the prefetched `images`."""
        return [(media.print_file_name(image), image) for image in self.stretch.images.all()]


@dataclass
class ProgramHandout:
    page: ProgramPage
    stretches: list[HandoutStretch]


@dataclass
class SessionHandout:
    enrolment: Enrolment
    session: ProgramSession
    falls_on: dt.date
    today: dt.date
    stretches: list[HandoutStretch]


def item_dose_text(item: SessionItem) -> str:
    """An item's prescription with its rest, as the session page shows it."""
    if item.sets > 1 and item.rest_seconds:
        rest = gettext("rest %(seconds)s s between sets") % {"seconds": item.rest_seconds}
        return f"{item.prescription_text} · {rest}"
    return item.prescription_text


def program_handout(*, slug: str) -> ProgramHandout:
    """A published program's handout: its page (program_page's four queries) and, per stretch,
    every prescription the plan gives it, in the order the plan first asks for it.

    Raises Program.DoesNotExist for an unknown slug or an unpublished program.
    """
    page = program_page(slug=slug)
    doses: dict[int, list[str]] = {stretch.pk: [] for stretch in page.stretches}
    for week in page.weeks:
        for day in week.days:
            for item in day.items:
                text = item_dose_text(item)
                if text not in doses[item.stretch_id]:
                    doses[item.stretch_id].append(text)
    return ProgramHandout(page=page, stretches=[HandoutStretch(stretch=s, doses=doses[s.pk]) for s in page.stretches])


def session_handout(*, enrolment: Enrolment, session: ProgramSession, today: dt.date) -> SessionHandout:
    """One of a member's sessions as a handout; reads `session.items` through session_items_prefetch."""
    return SessionHandout(
        enrolment=enrolment,
        session=session,
        falls_on=enrolment.date_of_session(session, today=today),
        today=today,
        stretches=[
            HandoutStretch(stretch=item.stretch, doses=[item_dose_text(item)], note=item.notes)
            for item in session.items.all()
        ],
    )


# --- Member selectors: today, enrolments, progress -------------------------------------------

# How many coming days the dashboard lists after today.
DASHBOARD_NEXT_DAYS = 5


def member_local_today(user, *, now: dt.datetime | None = None) -> dt.date:
    """The member's local date: every "today" in the schedule rules is this one."""
    now = now or timezone.now()
    tz = user.tzinfo if user is not None else dt.UTC
    return now.astimezone(tz).date()


def _completions_prefetch() -> Prefetch:
    # Only what the schedule and the pain chart need: notes can be long.
    return Prefetch(
        "completions",
        queryset=Completion.objects.only(
            "id", "enrolment_id", "program_session_id", "completed_at", "pain_before", "pain_after"
        ).order_by("completed_at"),
    )


def _sessions_prefetch() -> Prefetch:
    return Prefetch(
        "program__sessions",
        queryset=ProgramSession.objects.only("id", "program_id", "week", "day", "title").order_by("week", "day"),
    )


def member_progress_prefetches() -> list[Prefetch]:
    """What enrolment_progress reads, for any Enrolment queryset that selects `program`."""
    return [_sessions_prefetch(), _completions_prefetch()]


def member_enrolments(*, member) -> QuerySet[Enrolment]:
    """All of a member's enrolments, with what the schedule needs prefetched (three queries)."""
    return (
        Enrolment.objects.filter(member=member)
        .select_related("program", "member")
        .prefetch_related(*member_progress_prefetches())
    )


def _iso(value: dt.date | dt.datetime | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def member_history_export(*, member) -> list[dict[str, Any]]:
    """A member's enrolments and ticks, as "download my data" lists them. Two queries whatever the history."""
    enrolments = (
        Enrolment.objects.filter(member=member)
        .select_related("program")
        .prefetch_related(
            Prefetch(
                "completions",
                queryset=Completion.objects.select_related("program_session").order_by("completed_at", "pk"),
            )
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "program": {"title": e.program.title, "slug": e.program.slug},
            "status": e.status,
            "start_date": _iso(e.start_date),
            "reminder_time": _iso(e.reminder_time),
            "reminders_enabled": e.reminders_enabled,
            "paused_on": _iso(e.paused_on),
            "pauses": e.pauses,
            "created_at": _iso(e.created_at),
            "ended_at": _iso(e.ended_at),
            "completions": [
                {
                    "session": {
                        "week": c.program_session.week,
                        "day": c.program_session.day,
                        "title": c.program_session.title,
                    },
                    "completed_at": _iso(c.completed_at),
                    "pain_before": c.pain_before,
                    "pain_after": c.pain_after,
                    "note": c.note,
                }
                for c in e.completions.all()
            ],
        }
        for e in enrolments
    ]


@dataclass
class Dashboard:
    current: list[Enrolment]
    finished: list[Enrolment]


def member_dashboard_enrolments(*, member, finished_limit: int = 5) -> Dashboard:
    """Current enrolments (schedule prefetched) and the latest finished ones, in three queries.

    One query for every enrolment of the member (a handful of rows, each with its
    done count as a subquery), then the schedule prefetches for the current ones
    only, so the history of earlier runs adds rows to nothing.
    """
    done = Completion.objects.filter(enrolment=OuterRef("pk")).order_by().values("enrolment").annotate(n=Count("pk"))
    rows = list(
        Enrolment.objects.filter(member=member)
        .select_related("program")
        .annotate(done_count=Coalesce(Subquery(done.values("n"), output_field=IntegerField()), 0))
        .order_by("created_at")
    )
    current = [e for e in rows if e.is_current]
    for enrolment in current:
        enrolment.member = member
    prefetch_related_objects(current, *member_progress_prefetches())
    finished = sorted(
        (e for e in rows if not e.is_current), key=lambda e: (e.ended_at or e.created_at, e.created_at), reverse=True
    )
    return Dashboard(current=current, finished=finished[:finished_limit])


@dataclass
class DashboardData:
    current: list[EnrolmentProgress]
    finished: list[Enrolment]


def member_dashboard(*, member, today: dt.date) -> DashboardData:
    """The progress of each current enrolment, and the latest finished enrolments."""
    enrolments = member_dashboard_enrolments(member=member)
    return DashboardData(
        current=[enrolment_progress(enrolment=e, today=today) for e in enrolments.current],
        finished=enrolments.finished,
    )


def member_other_runs(*, enrolment: Enrolment) -> list[Enrolment]:
    """The member's other enrolments in the same program (earlier or later runs)."""
    if enrolment.member_id is None:
        return []
    return list(
        Enrolment.objects.filter(member_id=enrolment.member_id, program_id=enrolment.program_id)
        .exclude(pk=enrolment.pk)
        .annotate(done_count=Count("completions"))
        .order_by("-created_at")
    )


def member_current_enrolment(*, member, program: Program) -> Enrolment | None:
    return Enrolment.objects.filter(member=member, program=program, status__in=Enrolment.CURRENT_STATUSES).first()


@dataclass(frozen=True)
class SessionSlot:
    """One program session placed on the member's calendar."""

    session: ProgramSession
    date: dt.date
    completion: Completion | None

    @property
    def done(self) -> bool:
        return self.completion is not None


@dataclass
class EnrolmentProgress:
    enrolment: Enrolment
    today: dt.date
    slots: list[SessionSlot]
    progress: schedule.Progress
    calendar: list[schedule.CalendarDay]

    @property
    def is_paused(self) -> bool:
        return self.enrolment.status == Enrolment.Status.PAUSED

    @property
    def today_slots(self) -> list[SessionSlot]:
        return [s for s in self.slots if s.date == self.today]

    @property
    def open_today(self) -> SessionSlot | None:
        return next((s for s in self.today_slots if not s.done), None)

    @property
    def overdue(self) -> list[SessionSlot]:
        return [s for s in self.slots if s.date < self.today and not s.done]

    @property
    def upcoming(self) -> list[SessionSlot]:
        return [s for s in self.slots if s.date > self.today and not s.done]

    @property
    def next_slot(self) -> SessionSlot | None:
        return next(iter(self.upcoming), None)

    @property
    def coming_days(self) -> list[schedule.CalendarDay]:
        """The next few days after today, rest days included, for the dashboard."""
        last = self.today + dt.timedelta(days=DASHBOARD_NEXT_DAYS)
        return [d for d in self.calendar if self.today < d.date <= last]

    @property
    def percent_done(self) -> int:
        return round(100 * self.progress.done / self.progress.total) if self.progress.total else 0


def enrolment_progress(*, enrolment: Enrolment, today: dt.date) -> EnrolmentProgress:
    """Schedule, progress and calendar of one enrolment.

    Reads `enrolment.program.sessions` and `enrolment.completions` through any
    prefetch the queryset made (see member_enrolments), so listing many
    enrolments costs no query per row.
    """
    pauses = enrolment.pause_list(today=today)
    completions = {c.program_session_id: c for c in enrolment.completions.all()}
    sessions = sorted(enrolment.program.sessions.all(), key=lambda s: (s.week, s.day))
    slots = [
        SessionSlot(
            session=session,
            date=schedule.session_date(start_date=enrolment.start_date, day_number=session.day_number, pauses=pauses),
            completion=completions.get(session.pk),
        )
        for session in sessions
    ]
    scheduled = [schedule.ScheduledSession(s.session.day_number, s.date, s.done) for s in slots]
    return EnrolmentProgress(
        enrolment=enrolment,
        today=today,
        slots=slots,
        progress=schedule.progress(scheduled, today=today),
        calendar=schedule.calendar(scheduled, start_date=enrolment.start_date, today=today, pauses=pauses),
    )


# Today and the next three days: enough for a long weekend with no signal.
OFFLINE_DAYS = 4


def member_offline_sessions(*, member, today: dt.date, days: int = OFFLINE_DAYS) -> list[tuple[Enrolment, SessionSlot]]:
    """The sessions a member can open with no network (docs/push.md), in three queries.

    For each current enrolment: the sessions falling on today and the next
    days, done or not, and the oldest one still open from before, to catch up on.
    """
    sessions = []
    for enrolment in member_dashboard_enrolments(member=member).current:
        slots = enrolment_progress(enrolment=enrolment, today=today).slots
        oldest_open = [s for s in slots if s.date < today and not s.done][:1]
        coming = [s for s in slots if today <= s.date < today + dt.timedelta(days=days)]
        sessions += [(enrolment, slot) for slot in oldest_open + coming]
    return sessions
