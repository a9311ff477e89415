import datetime as dt

from programs.schedule import Pause, ScheduledSession, day_number, progress, session_date

D = dt.date


def test_it_numbers_days_across_weeks():
    assert day_number(week=1, day=1) == 1
    assert day_number(week=2, day=3) == 10
    assert day_number(week=12, day=7) == 84


def test_it_places_day_one_on_the_start_date():
    assert session_date(start_date=D(2026, 3, 2), day_number=1) == D(2026, 3, 2)


def test_it_crosses_month_and_leap_day_boundaries():
    assert session_date(start_date=D(2028, 2, 27), day_number=4) == D(2028, 3, 1)
    assert session_date(start_date=D(2027, 2, 27), day_number=4) == D(2027, 3, 2)


def test_it_crosses_the_year_boundary():
    assert session_date(start_date=D(2026, 12, 29), day_number=10) == D(2027, 1, 7)


def test_it_shifts_only_days_after_a_pause():
    pauses = [Pause(D(2026, 3, 6), 5)]
    assert session_date(start_date=D(2026, 3, 1), day_number=5, pauses=pauses) == D(2026, 3, 5)
    assert session_date(start_date=D(2026, 3, 1), day_number=6, pauses=pauses) == D(2026, 3, 11)


def test_it_applies_pauses_in_order_on_shifted_dates():
    # Day 8 would fall on 8 March; the first pause moves it to 13 March, the
    # day the second pause began, which moves it two more days.
    pauses = [Pause(D(2026, 3, 13), 2), Pause(D(2026, 3, 6), 5)]
    assert session_date(start_date=D(2026, 3, 1), day_number=8, pauses=pauses) == D(2026, 3, 15)


def _sessions(*specs):
    return [ScheduledSession(day_number=i + 1, date=date, done=done) for i, (date, done) in enumerate(specs)]


def test_it_does_not_count_todays_open_session_against_the_member():
    sessions = _sessions((D(2026, 3, 1), True), (D(2026, 3, 3), True), (D(2026, 3, 5), False))
    result = progress(sessions, today=D(2026, 3, 5))
    assert result.current_streak == 2
    assert (result.adherence.done, result.adherence.due) == (2, 2)


def test_it_breaks_the_streak_on_a_missed_session_but_keeps_the_best():
    sessions = _sessions(
        (D(2026, 3, 1), True), (D(2026, 3, 2), True), (D(2026, 3, 3), True),
        (D(2026, 3, 5), False), (D(2026, 3, 7), True),
    )  # fmt: skip
    result = progress(sessions, today=D(2026, 3, 8))
    assert result.current_streak == 1
    assert result.best_streak == 3
    assert result.adherence.percent == 80


def test_it_ignores_rest_days_in_streaks():
    # Sessions on days 1 and 4 with rest days between: still a streak of 2.
    sessions = _sessions((D(2026, 3, 1), True), (D(2026, 3, 4), True))
    assert progress(sessions, today=D(2026, 3, 6)).current_streak == 2


def test_it_computes_windowed_adherence():
    sessions = _sessions((D(2026, 1, 1), False), (D(2026, 3, 1), True), (D(2026, 3, 6), False))
    result = progress(sessions, today=D(2026, 3, 7))
    assert (result.adherence_7_days.done, result.adherence_7_days.due) == (1, 2)
    assert (result.adherence_30_days.done, result.adherence_30_days.due) == (1, 2)
    assert (result.adherence.done, result.adherence.due) == (1, 3)


def test_it_reports_no_adherence_before_anything_is_due():
    result = progress(_sessions((D(2026, 3, 9), False)), today=D(2026, 3, 7))
    assert result.adherence.percent is None
    assert result.total == 1


def test_it_lays_out_a_calendar_of_done_missed_today_upcoming_and_rest_days():
    from programs.schedule import DayState, calendar

    sessions = _sessions((D(2026, 3, 1), True), (D(2026, 3, 3), False), (D(2026, 3, 5), False), (D(2026, 3, 7), False))
    days = calendar(sessions, start_date=D(2026, 3, 1), today=D(2026, 3, 5))
    assert [(d.date.day, d.state) for d in days] == [
        (1, DayState.DONE), (2, DayState.REST), (3, DayState.MISSED), (4, DayState.REST),
        (5, DayState.TODAY), (6, DayState.REST), (7, DayState.UPCOMING),
    ]  # fmt: skip
    assert days[0].day_number == 1 and days[1].day_number is None


def test_it_marks_paused_days_and_shows_the_shifted_sessions_after_them():
    from programs.schedule import DayState, calendar

    pauses = [Pause(D(2026, 3, 2), 2)]
    dates = [session_date(start_date=D(2026, 3, 1), day_number=n, pauses=pauses) for n in (1, 2)]
    sessions = [ScheduledSession(1, dates[0], True), ScheduledSession(2, dates[1], False)]
    days = calendar(sessions, start_date=D(2026, 3, 1), today=D(2026, 3, 3), pauses=pauses)
    assert [(d.date.day, d.state) for d in days] == [
        (1, DayState.DONE), (2, DayState.PAUSED), (3, DayState.PAUSED), (4, DayState.UPCOMING),
    ]  # fmt: skip


def test_a_calendar_of_nothing_is_empty():
    from programs.schedule import calendar

    assert calendar([], start_date=D(2026, 3, 1), today=D(2026, 3, 1)) == []
