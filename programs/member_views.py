"""Member pages: enrol, today's dashboard, the session with its player, tick-off and progress.

Every enrolment is looked up through the signed-in member, so another
member's enrolment or session is a 404 and a forged POST changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from stretchhub import l10n

from . import handout, media, selectors, services
from .member_forms import CompletionForm, EnrolForm, ReminderForm, StartDateForm
from .models import Completion, Enrolment, Program, ProgramSession
from .pain_chart import pain_chart
from .schedule import DAYS_PER_WEEK, CalendarDay

# The player's timers may run faster only where it is safe: tests and development.
PLAYER_MAX_SPEED = 100
FRAGMENT_HEADER = "X-Fragment"


def _enrolment_url(enrolment: Enrolment) -> str:
    return reverse("programs:enrolment", kwargs={"pk": enrolment.pk})


def _session_url(enrolment: Enrolment, session: ProgramSession) -> str:
    return reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk})


def _wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    # Only a path on this site: redirect() would take "a:b" for a URL name, and reversing it is a 500.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _member_enrolment(request: HttpRequest, pk: int) -> Enrolment:
    return get_object_or_404(Enrolment.objects.select_related("program", "member"), pk=pk, member=request.user)


# --- Enrol ---------------------------------------------------------------------------------------


def _confirm_email_first(request: HttpRequest, error: services.EmailNotVerified) -> HttpResponse:
    messages.info(request, str(error))
    return redirect(f"{reverse('accounts:verify_sent')}?{urlencode({'next': request.path})}")


@login_required
def enrol(request: HttpRequest, slug: str) -> HttpResponse:
    program = get_object_or_404(Program, slug=slug, status=Program.Status.PUBLISHED)
    member = request.user
    try:
        # Checked before the form too: there is no point filling in one that must be refused.
        services.enrolment_member_check(member=member)
    except services.EmailNotVerified as error:
        return _confirm_email_first(request, error)
    existing = selectors.member_current_enrolment(member=member, program=program)
    if existing is not None:
        messages.info(request, gettext("You are already enrolled in this program: here is your enrolment."))
        return redirect(_enrolment_url(existing))

    today = selectors.member_local_today(member)
    form = EnrolForm(request.POST or None, member=member, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_create(member=member, program=program, today=today, **form.cleaned_data)
        except services.AlreadyEnrolled as already:
            messages.info(request, str(already))
            return redirect(_enrolment_url(already.enrolment))
        except services.EmailNotVerified as error:
            return _confirm_email_first(request, error)
        except services.EnrolmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("You are enrolled in %(program)s.") % {"program": program.title})
            return redirect("programs:dashboard")
    status = 400 if request.method == "POST" else 200
    return render(request, "programs/enrol.html", {"program": program, "form": form, "today": today}, status=status)


# --- Today ---------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    member = request.user
    today = selectors.member_local_today(member)
    data = selectors.member_dashboard(member=member, today=today)
    context = {"today": today, "current": data.current, "finished": data.finished, "member_timezone": member.timezone}
    return render(request, "programs/dashboard.html", context)


# --- Progress ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarCell:
    """One calendar day with its texts made here: the grid has a hundred of them."""

    day: CalendarDay
    show_month: bool

    @property
    def month(self) -> str:
        return date_format(self.day.date, "M") if self.show_month else ""

    @property
    def label(self) -> str:
        return f"{l10n.day_month(self.day.date)}: {self.day.state.label}"


# The calendar (a hundred cells), the pain chart's dots and rows and the session list are
# the page's repeated markup: written here with escape() instead of a template loop,
# they cost a tenth of what the template engine took for them (variable lookups,
# localisation and autoescaping per value). Each keeps the markup its template had.


def _calendar_rows(weeks: list[list[CalendarCell | None]], *, today) -> SafeString:
    today_mark = escape(gettext(" (today)"))
    rows = []
    for week in weeks:
        cells = []
        for cell in week:
            if cell is None:
                cells.append('<td class="cal-day cal-day--none"></td>')
                continue
            day = cell.day
            is_today = day.date == today
            month = f'<span class="cal-day__month">{cell.month}</span> ' if cell.month else ""
            cells.append(
                f'<td class="cal-day cal-day--{day.state}{" cal-day--is-today" if is_today else ""}">'
                f'<span class="cal-day__num" aria-hidden="true">{month}{day.date.day}</span>'
                '<span class="cal-day__mark" aria-hidden="true"></span>'
                f'<span class="visually-hidden">{escape(cell.label)}{today_mark if is_today else ""}</span></td>'
            )
        rows.append("<tr>\n      " + "\n      ".join(cells) + "\n    </tr>")
    return mark_safe("\n    ".join(rows))


def _session_rows(enrolment: Enrolment, progress: selectors.EnrolmentProgress) -> SafeString:
    today = progress.today
    states = {
        "done": escape(gettext("Done")),
        "missed": escape(gettext("Open, was due")),
        "today": escape(gettext("Today")),
        "upcoming": escape(gettext("Upcoming")),
    }
    week_day = gettext("week %(week)d, day %(day)d")
    rows = []
    for slot in progress.slots:
        session = slot.session
        url = reverse("programs:session", kwargs={"pk": enrolment.pk, "session_pk": session.pk})
        if slot.done:
            kind = "done"
        elif slot.date < today:
            kind = "missed"
        elif slot.date == today:
            kind = "today"
        else:
            kind = "upcoming"
        state = f'<span class="state state--{kind}">{states[kind]}</span>'
        rows.append(
            "<tr>\n"
            f'          <td><time datetime="{slot.date.isoformat()}">'
            f"{l10n.short_weekday_date(slot.date)}</time></td>\n"
            f'          <td><a href="{url}">{escape(session.title)}</a> <span class="muted">· '
            f"{escape(week_day % {'week': session.week, 'day': session.day})}</span></td>\n"
            f"          <td>{state}</td>\n"
            "        </tr>"
        )
    return mark_safe("\n        ".join(rows))


def _calendar_weeks(days: list[CalendarDay]) -> list[list[CalendarCell | None]]:
    """Monday-first rows of seven cells (None outside the enrolment) for the calendar grid."""
    if not days:
        return []
    cells: list[CalendarCell | None] = [None] * days[0].date.weekday()
    cells += [CalendarCell(day, show_month=i == 0 or day.date.day == 1) for i, day in enumerate(days)]
    cells += [None] * (-len(cells) % DAYS_PER_WEEK)
    return [cells[i : i + DAYS_PER_WEEK] for i in range(0, len(cells), DAYS_PER_WEEK)]


def _enrolment_context(request: HttpRequest, enrolment: Enrolment, **forms) -> dict:
    member = request.user
    today = selectors.member_local_today(member)
    progress = selectors.enrolment_progress(enrolment=enrolment, today=today)

    titles = {s.session.pk: s.session.title for s in progress.slots}
    done = [s.completion for s in progress.slots if s.done]
    weeks = _calendar_weeks(progress.calendar)
    context = {
        "enrolment": enrolment,
        "program": enrolment.program,
        "today": today,
        "p": progress,
        "weeks": weeks,
        "calendar_rows": _calendar_rows(weeks, today=today),
        "session_rows": _session_rows(enrolment, progress),
        "chart": pain_chart(done, tz=member.tzinfo, session_titles=titles),
        "other_runs": selectors.member_other_runs(enrolment=enrolment),
        "reminder_form": forms.get("reminder_form")
        or ReminderForm(
            initial={"reminder_time": enrolment.reminder_time, "reminders_enabled": enrolment.reminders_enabled}
        ),
        "restart_form": forms.get("restart_form") or StartDateForm(today=today, prefix="restart"),
    }
    return context


@login_required
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(selectors.member_enrolments(member=request.user), pk=pk)
    return render(request, "programs/enrolment.html", _enrolment_context(request, enrolment))


def _action(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    enrolment = _member_enrolment(request, pk)
    try:
        service(enrolment=enrolment)
    except services.EnrolmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success % {"program": enrolment.program.title})
    return redirect(_back(request, _enrolment_url(enrolment)))


@login_required
@require_POST
def enrolment_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        services.enrolment_pause,
        gettext("%(program)s is paused. Your schedule waits for you until you resume."),
    )


@login_required
@require_POST
def enrolment_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request, pk, services.enrolment_resume, gettext("Welcome back: %(program)s carries on from where you left.")
    )


@login_required
@require_POST
def enrolment_leave(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, services.enrolment_leave, gettext("You left %(program)s. Your history is kept."))


@login_required
@require_POST
def enrolment_finish(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, services.enrolment_finish, gettext("You finished %(program)s. Well done."))


@login_required
@require_POST
def enrolment_restart(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _member_enrolment(request, pk)
    today = selectors.member_local_today(request.user)
    form = StartDateForm(request.POST, today=today, prefix="restart")
    if form.is_valid():
        try:
            new = services.enrolment_restart(enrolment=enrolment, start_date=form.cleaned_data["start_date"])
        except services.AlreadyEnrolled as already:
            messages.info(request, str(already))
            return redirect(_enrolment_url(already.enrolment))
        except services.EnrolmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                gettext("You restarted %(program)s. Your earlier run is kept.") % {"program": enrolment.program.title},
            )
            return redirect(_enrolment_url(new))
    enrolment = get_object_or_404(selectors.member_enrolments(member=request.user), pk=pk)
    return render(
        request, "programs/enrolment.html", _enrolment_context(request, enrolment, restart_form=form), status=400
    )


@login_required
@require_POST
def enrolment_reminder(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _member_enrolment(request, pk)
    form = ReminderForm(request.POST)
    if form.is_valid():
        services.enrolment_update_reminder(enrolment=enrolment, **form.cleaned_data)
        messages.success(request, gettext("Reminder settings saved."))
        return redirect(_back(request, _enrolment_url(enrolment)))
    enrolment = get_object_or_404(selectors.member_enrolments(member=request.user), pk=pk)
    return render(
        request, "programs/enrolment.html", _enrolment_context(request, enrolment, reminder_form=form), status=400
    )


# --- Session, player and tick-off ----------------------------------------------------------------


def _player_speed(request: HttpRequest) -> int:
    if not settings.PLAYER_SPEED_PARAM:
        return 1
    try:
        return max(1, min(PLAYER_MAX_SPEED, int(request.GET.get("speed", 1))))
    except ValueError:
        return 1


def _member_session(request: HttpRequest, pk: int, session_pk: int, *, with_items: bool = False):
    enrolment = _member_enrolment(request, pk)
    sessions = ProgramSession.objects.filter(program_id=enrolment.program_id)
    if with_items:
        sessions = sessions.prefetch_related(selectors.session_items_prefetch())
    session = get_object_or_404(sessions, pk=session_pk)
    return enrolment, session


def _tick_context(request: HttpRequest, enrolment: Enrolment, session: ProgramSession, form=None) -> dict:
    today = selectors.member_local_today(request.user)
    completion = Completion.objects.filter(enrolment=enrolment, program_session=session).first()
    falls_on = enrolment.date_of_session(session, today=today)
    return {
        "enrolment": enrolment,
        "session": session,
        "today": today,
        "falls_on": falls_on,
        "completion": completion,
        "can_tick": completion is None and enrolment.is_current and falls_on <= today,
        "form": form or CompletionForm(),
        "session_url": _session_url(enrolment, session),
    }


@login_required
def session_detail(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    enrolment, session = _member_session(request, pk, session_pk, with_items=True)
    context = _tick_context(request, enrolment, session)
    items = list(session.items.all())
    context.update(items=items, player_speed=_player_speed(request))
    return media.allow_embeds(render(request, "programs/session.html", context), [item.stretch for item in items])


@login_required
@require_safe
def session_handout(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    """One of the member's own sessions as a printable PDF: private, like the session page."""
    try:
        paper = handout.paper_size(request.GET.get("paper"))
    except handout.UnknownPaper as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    enrolment, session = _member_session(request, pk, session_pk, with_items=True)
    data = selectors.session_handout(
        enrolment=enrolment, session=session, today=selectors.member_local_today(request.user)
    )
    response = handout.pdf_response(
        handout.session_handout_pdf(handout=data, paper=paper),
        filename=f"{enrolment.program.slug}-week-{session.week}-day-{session.day}.pdf",
    )
    # The member's own dates, for the member's browser only: no shared cache keeps it.
    patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
    return response


def _tick_response(request, enrolment, session, form, *, status: int) -> HttpResponse:
    if _wants_fragment(request):
        context = _tick_context(request, enrolment, session, form)
        return render(request, "programs/_tick_box.html", context, status=status)
    if status == 200:
        return redirect(_session_url(enrolment, session))
    session = get_object_or_404(
        ProgramSession.objects.prefetch_related(selectors.session_items_prefetch()), pk=session.pk
    )
    context = _tick_context(request, enrolment, session, form)
    items = list(session.items.all())
    context.update(items=items, player_speed=1)
    response = render(request, "programs/session.html", context, status=status)
    return media.allow_embeds(response, [item.stretch for item in items])


@login_required
@require_POST
def session_tick(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    enrolment, session = _member_session(request, pk, session_pk)
    form = CompletionForm(request.POST)
    if form.is_valid():
        try:
            _completion, created = services.completion_record(
                enrolment=enrolment, program_session=session, **form.cleaned_data
            )
        except services.EnrolmentError as error:
            form.add_error(None, str(error))
        else:
            enrolment.refresh_from_db(fields=["status"])
            if created and enrolment.status == Enrolment.Status.COMPLETED:
                messages.success(
                    request,
                    gettext("That was the last session: you completed %(program)s!")
                    % {"program": enrolment.program.title},
                )
            elif created and not _wants_fragment(request):
                messages.success(request, gettext("Session ticked off. Nice work."))
            elif not created and not _wants_fragment(request):
                messages.info(request, gettext("This session was already ticked off."))
            return _tick_response(request, enrolment, session, None, status=200)
    return _tick_response(request, enrolment, session, form, status=400)


@login_required
@require_POST
def session_undo(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    enrolment, session = _member_session(request, pk, session_pk)
    try:
        services.completion_undo(enrolment=enrolment, program_session=session)
    except services.EnrolmentError as error:
        if _wants_fragment(request):
            form = CompletionForm()
            form.add_error(None, str(error))
            return _tick_response(request, enrolment, session, form, status=400)
        messages.error(request, str(error))
        return redirect(_session_url(enrolment, session))
    if not _wants_fragment(request):
        messages.info(request, gettext("Tick removed."))
    return _tick_response(request, enrolment, session, None, status=200)
