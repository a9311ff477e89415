"""The trainers' view of their members: adherence, last activity and pain, in the admin.

A read-only Enrolment changelist, scoped to the programs the trainer wrote
(superusers see every program). Adherence and streaks come from
programs.schedule through selectors.enrolment_progress, so a trainer sees
exactly the numbers the member sees. Everything is computed from one page of
rows plus two prefetches: no query per row. Adherence and streak columns are
sorted in Python over the filtered rows (they depend on pauses, which SQL
cannot see); the other columns sort in the database.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import InvalidPage
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import PAIN_MAX, Completion, Enrolment

SLIPPED_AFTER_DAYS = 7
HIGH_PAIN = 7


def inactive_condition(*, now: dt.datetime) -> Q:
    """Active for a week or more with no session done in the last 7 days (needs `last_activity`)."""
    week_ago = now - dt.timedelta(days=SLIPPED_AFTER_DAYS)
    return Q(status=Enrolment.Status.ACTIVE, start_date__lte=week_ago.date()) & (
        Q(last_activity__isnull=True) | Q(last_activity__lt=week_ago)
    )


def adherence_queryset(queryset: QuerySet[Enrolment], *, now: dt.datetime) -> QuerySet[Enrolment]:
    """Enrolments annotated with what the trainer sorts and filters on, all as subqueries (no GROUP BY)."""
    completions = Completion.objects.filter(enrolment=OuterRef("pk"))
    scored = completions.filter(Q(pain_after__isnull=False) | Q(pain_before__isnull=False)).order_by("-completed_at")
    high_pain = completions.filter(
        Q(pain_before__gte=HIGH_PAIN) | Q(pain_after__gte=HIGH_PAIN),
        completed_at__gte=now - dt.timedelta(days=SLIPPED_AFTER_DAYS),
    )
    queryset = queryset.annotate(
        done_count=Coalesce(
            Subquery(
                completions.order_by().values("enrolment").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        last_activity=Subquery(completions.order_by("-completed_at").values("completed_at")[:1]),
        latest_pain=Subquery(scored.annotate(p=Coalesce("pain_after", "pain_before")).values("p")[:1]),
        latest_pain_at=Subquery(scored.values("completed_at")[:1]),
        high_pain_recently=Exists(high_pain),
    )
    queryset = queryset.annotate(inactive=ExpressionWrapper(inactive_condition(now=now), output_field=BooleanField()))
    # Slipped: no session done for 7 days, or a pain score of 7 or more in the last week.
    return queryset.annotate(
        slipped=ExpressionWrapper(Q(inactive=True) | Q(high_pain_recently=True), output_field=BooleanField()),
        # Placeholders so the admin offers these columns for sorting; the
        # changelist sorts them in Python (see AdherenceChangeList).
        adherence_sort=Value(0),
        adherence_7_sort=Value(0),
        adherence_30_sort=Value(0),
        streak_sort=Value(0),
    )


def attach_progress(enrolments: list[Enrolment]) -> list[Enrolment]:
    """Compute each enrolment's progress on the member's own today, from prefetched rows."""
    for enrolment in enrolments:
        today = selectors.member_local_today(enrolment.member)
        enrolment.progress_data = selectors.enrolment_progress(enrolment=enrolment, today=today)
    return enrolments


def _ratio(adherence) -> float:
    return -1.0 if adherence.ratio is None else adherence.ratio


PYTHON_SORTS = {
    "adherence_sort": lambda e: (_ratio(e.progress_data.progress.adherence), e.progress_data.progress.adherence.due),
    "adherence_7_sort": lambda e: _ratio(e.progress_data.progress.adherence_7_days),
    "adherence_30_sort": lambda e: _ratio(e.progress_data.progress.adherence_30_days),
    "streak_sort": lambda e: (e.progress_data.progress.current_streak, e.progress_data.progress.best_streak),
}


class AdherenceChangeList(ChangeList):
    def _python_sort(self) -> tuple[str, bool] | None:
        """The first ordering column, when it is one computed in Python: (annotation, descending)."""
        for index, direction in self.get_ordering_field_columns().items():
            try:
                name = self.list_display[index]
            except (IndexError, TypeError):
                return None
            field = getattr(getattr(self.model_admin, name, None), "admin_order_field", None)
            return (field, direction == "desc") if field in PYTHON_SORTS else None
        return None

    def get_results(self, request):
        sort = self._python_sort()
        if sort is None:
            super().get_results(request)
            self.result_list = attach_progress(list(self.result_list))
            return
        field, descending = sort
        rows = attach_progress(list(self.queryset))
        rows.sort(key=PYTHON_SORTS[field], reverse=descending)
        paginator = self.model_admin.get_paginator(request, rows, self.list_per_page)
        result_count = paginator.count
        full_result_count = self.root_queryset.count() if self.model_admin.show_full_result_count else None
        can_show_all = result_count <= self.list_max_show_all
        multi_page = result_count > self.list_per_page
        if (self.show_all and can_show_all) or not multi_page:
            result_list = rows
        else:
            try:
                result_list = list(paginator.page(self.page_num).object_list)
            except InvalidPage:
                raise IncorrectLookupParameters from None
        self.result_count = result_count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = False
        self.full_result_count = full_result_count
        self.result_list = result_list
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator


class SlippedFilter(admin.SimpleListFilter):
    title = _("attention")
    parameter_name = "slipped"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Slipped (no session for 7 days, or pain 7+ this week)"),
            ("no", "On track"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(slipped=True)
        if self.value() == "no":
            return queryset.filter(slipped=False)
        return queryset


@admin.register(Enrolment)
class EnrolmentAdherenceAdmin(admin.ModelAdmin):
    """Members' adherence to a trainer's programs. Read-only: members change their own enrolments."""

    # Most telling first: on a laptop the last columns may need a sideways scroll.
    list_display = [
        "member_name",
        "attention",
        "adherence",
        "adherence_7_days",
        "adherence_30_days",
        "last_active",
        "latest_pain_score",
        "sessions_done",
        "streak",
        "program",
        "status",
    ]
    list_display_links = ["member_name"]
    list_filter = [SlippedFilter, "status", ("program", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["member", "program"]
    search_fields = ["member__display_name", "member__username", "program__title_en", "program__title_de"]
    ordering = ["program__title_en", "member__display_name", "member__username"]
    list_per_page = 50
    actions = None
    fields = [
        "member",
        "program",
        "status",
        "start_date",
        "paused_on",
        "pauses",
        "reminder_time",
        "reminders_enabled",
        "created_at",
        "ended_at",
    ]
    readonly_fields = fields

    class Media:
        css = {"all": ["css/admin_adherence.css"]}

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related(*selectors.member_progress_prefetches())
        if not request.user.is_superuser:
            queryset = queryset.filter(program__author=request.user)
        return adherence_queryset(queryset, now=timezone.now())

    def get_changelist(self, request, **kwargs):
        return AdherenceChangeList

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "Members' adherence to your programs", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- Columns ---

    @admin.display(description=_("member"), ordering="member__display_name")
    def member_name(self, obj):
        return str(obj.member) if obj.member else "(deleted account)"

    @admin.display(description=_("done"), ordering="done_count")
    def sessions_done(self, obj):
        return f"{obj.progress_data.progress.done}/{obj.progress_data.progress.total}"

    @staticmethod
    def _percent(adherence) -> str:
        if adherence.percent is None:
            return format_html('<span title="{}">—</span>', "nothing due yet")
        return format_html(
            '<span title="{} of {} due sessions done">{}%</span>', adherence.done, adherence.due, adherence.percent
        )

    @admin.display(description=_("adherence"), ordering="adherence_sort")
    def adherence(self, obj):
        return self._percent(obj.progress_data.progress.adherence)

    @admin.display(description=_("7 days"), ordering="adherence_7_sort")
    def adherence_7_days(self, obj):
        return self._percent(obj.progress_data.progress.adherence_7_days)

    @admin.display(description=_("30 days"), ordering="adherence_30_sort")
    def adherence_30_days(self, obj):
        return self._percent(obj.progress_data.progress.adherence_30_days)

    @admin.display(description=_("streak (best)"), ordering="streak_sort")
    def streak(self, obj):
        progress = obj.progress_data.progress
        return f"{progress.current_streak} ({progress.best_streak})"

    @admin.display(description=_("last session"), ordering="last_activity")
    def last_active(self, obj):
        if obj.last_activity is None:
            return "never"
        return format_html(
            '<time datetime="{}" title="{}">{} ago</time>',
            obj.last_activity.isoformat(),
            timezone.localtime(obj.last_activity).strftime("%Y-%m-%d %H:%M %Z"),
            timesince(obj.last_activity, depth=1),
        )

    @admin.display(description=_("latest pain"), ordering="latest_pain")
    def latest_pain_score(self, obj):
        if obj.latest_pain is None:
            return "—"
        if obj.latest_pain >= HIGH_PAIN:
            return format_html('<strong class="adherence-pain-high">{}/{}</strong>', obj.latest_pain, PAIN_MAX)
        return f"{obj.latest_pain}/{PAIN_MAX}"

    @admin.display(description=_("attention"), ordering="slipped")
    def attention(self, obj):
        if not obj.slipped:
            return "on track"
        reasons = []
        if obj.inactive:
            reasons.append("no session for 7+ days")
        if obj.high_pain_recently:
            reasons.append("pain 7+ this week")
        return format_html(
            '<strong class="adherence-slipped">Slipped</strong><br><small>{}</small>', "; ".join(reasons)
        )
