"""A small server-rendered SVG line chart of pain scores (no chart library, no JavaScript)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from stretchhub import l10n

from .models import PAIN_MAX, PAIN_MIN

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 12, 28


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    label: str

    @property
    def cx(self) -> str:
        return f"{self.x:.1f}"

    @property
    def cy(self) -> str:
        return f"{self.y:.1f}"


@dataclass(frozen=True)
class Row:
    date: dt.date
    session: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points))

    # Dots and table rows repeat once per tick: plain strings cost a tenth of a template loop.
    @property
    def dots(self) -> SafeString:
        name = escape(self.name)
        return mark_safe(
            "".join(
                f'<circle cx="{p.cx}" cy="{p.cy}" r="4" class="pain-chart__dot pain-chart__dot--{self.css}">'
                f"<title>{name}, {escape(p.label)}: {p.value}</title></circle>"
                for p in self.points
            )
        )


@dataclass(frozen=True)
class PainChart:
    series: list[Series]
    rows: list[Row]
    y_ticks: list[tuple[int, str]]
    x_labels: list[tuple[str, str]]
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def table_rows(self) -> SafeString:
        return mark_safe(
            "\n        ".join(
                f"<tr><td>{l10n.short_date_year(r.date)}</td><td>{escape(r.session)}</td>"
                f"<td>{_score(r.before)}</td><td>{_score(r.after)}</td></tr>"
                for r in self.rows
            )
        )


def _score(value: int | None) -> str:
    return "—" if value is None else str(value)


def _y(value: int) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / PAIN_MAX)


def _describe(when: str, values: list[int]) -> str | None:
    """One sentence on one series; `when` is "before" or "after" (the session)."""
    if not values:
        return None
    if len(values) == 1:
        once = {
            "before": gettext("Pain before was %(score)d out of %(max)d once"),
            "after": gettext("Pain after was %(score)d out of %(max)d once"),
        }[when]
        return once % {"score": values[0], "max": PAIN_MAX}
    direction = "down" if values[-1] < values[0] else "up" if values[-1] > values[0] else "level"
    trend = {
        "down": pgettext("pain trend", "down"),
        "up": pgettext("pain trend", "up"),
        "level": pgettext("pain trend", "level"),
    }[direction]
    went = {
        "before": gettext(
            "Pain before went from %(first)d to %(last)d out of %(max)d (%(trend)s) over %(count)d sessions"
        ),
        "after": gettext(
            "Pain after went from %(first)d to %(last)d out of %(max)d (%(trend)s) over %(count)d sessions"
        ),
    }[when]
    return went % {"first": values[0], "last": values[-1], "max": PAIN_MAX, "trend": trend, "count": len(values)}


def pain_chart(completions: Sequence, *, tz: ZoneInfo, session_titles: dict[int, str]) -> PainChart | None:
    """Pain before and after, one x step per tick that carries a score, oldest first."""
    scored = [c for c in completions if c.pain_before is not None or c.pain_after is not None]
    if not scored:
        return None
    scored.sort(key=lambda c: c.completed_at)
    span = WIDTH - LEFT - RIGHT
    step = span / (len(scored) - 1) if len(scored) > 1 else 0
    rows, before, after = [], [], []
    for index, completion in enumerate(scored):
        x = LEFT + (index * step if len(scored) > 1 else span / 2)
        date = completion.completed_at.astimezone(tz).date()
        label = l10n.short_date(date)
        rows.append(
            Row(
                date=date,
                session=session_titles.get(completion.program_session_id, ""),
                before=completion.pain_before,
                after=completion.pain_after,
            )
        )
        if completion.pain_before is not None:
            before.append(Point(x, _y(completion.pain_before), completion.pain_before, label))
        if completion.pain_after is not None:
            after.append(Point(x, _y(completion.pain_after), completion.pain_after, label))
    first_x = LEFT if len(scored) > 1 else LEFT + span / 2
    x_labels = [(l10n.short_date(rows[0].date), f"{first_x:.1f}")]
    if len(scored) > 1:
        x_labels.append((l10n.short_date(rows[-1].date), f"{WIDTH - RIGHT:.1f}"))
    parts = [
        _describe("before", [p.value for p in before]),
        _describe("after", [p.value for p in after]),
    ]
    summary = "; ".join(p for p in parts if p)
    series = (Series(gettext("Before"), "before", before), Series(gettext("After"), "after", after))
    return PainChart(
        series=[s for s in series if s.points],
        rows=rows,
        y_ticks=[(v, f"{_y(v):.1f}") for v in range(PAIN_MIN, PAIN_MAX + 1, 2)],
        x_labels=x_labels,
        summary=summary + ".",
    )
