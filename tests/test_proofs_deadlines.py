"""Working-time deadlines: the calendar's settings, its arithmetic, and the SLA marks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from genproto.certfree.proofs.v1 import proofs_pb2
from services.proofs.deadlines import (
    CalendarError,
    WorkingCalendar,
    sla_mark,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)

# A synthetic Golden Week: seven days off, and the Saturday after made a working day.
# (Illustrative dates, not the State Council's published schedule for any year.)
CALENDAR = WorkingCalendar.from_config(
    hours="09:00-12:00,13:30-17:30",
    weekdays="1-5",
    holidays="2026-10-01..2026-10-07,2027-01-01",
    workdays="2026-10-10",
    zone="Asia/Shanghai",
)


def at(day: str, clock: str) -> dt.datetime:
    """A Shanghai instant from ``YYYY-MM-DD`` and ``HH:MM``."""
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


# 2026-09-14 is a Monday.
MON, TUE, WED, FRI, SAT = "2026-09-14", "2026-09-15", "2026-09-16", "2026-09-18", "2026-09-19"
NEXT_MON = "2026-09-21"


class TestFromConfig:
    """Settings strings become a calendar, or an error naming the setting."""

    def test_the_example_settings(self) -> None:
        assert CALENDAR.zone == SHANGHAI
        assert CALENDAR.hours == (
            (dt.time(9), dt.time(12)),
            (dt.time(13, 30), dt.time(17, 30)),
        )
        assert CALENDAR.weekdays == frozenset({1, 2, 3, 4, 5})
        assert len(CALENDAR.holidays) == 8
        assert dt.date(2026, 10, 4) in CALENDAR.holidays
        assert CALENDAR.workdays == frozenset({dt.date(2026, 10, 10)})

    def test_defaults_are_a_weekday_office_in_china(self) -> None:
        calendar = WorkingCalendar.from_config()
        assert calendar == WorkingCalendar(
            zone=SHANGHAI,
            hours=((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(17, 30))),
            weekdays=frozenset(range(1, 6)),
        )

    def test_weekday_lists_and_ranges_mix(self) -> None:
        calendar = WorkingCalendar.from_config(weekdays="1-3, 5,6")
        assert calendar.weekdays == frozenset({1, 2, 3, 5, 6})

    def test_dates_may_come_as_a_list(self) -> None:
        calendar = WorkingCalendar.from_config(holidays=["2027-01-01", "2027-02-10..2027-02-12"])
        assert len(calendar.holidays) == 4

    def test_one_period_a_day_is_enough(self) -> None:
        calendar = WorkingCalendar.from_config(hours="08:30-17:00")
        assert calendar.add_working_time(at(MON, "16:00"), 0, 2 * H) == at(TUE, "09:30")

    @pytest.mark.parametrize(
        ("settings", "named"),
        [
            ({"hours": "9:00-12:00"}, "hours"),
            ({"hours": "09:00-25:00"}, "hours"),
            ({"hours": "12:00-09:00"}, "hours"),
            ({"hours": "09:00-12:00,11:00-17:00"}, "hours"),
            ({"hours": ""}, "hours"),
            ({"hours": ",".join(f"{h:02d}:00-{h:02d}:30" for h in range(8, 13))}, "hours"),
            ({"weekdays": "0-5"}, "weekdays"),
            ({"weekdays": "5-1"}, "weekdays"),
            ({"weekdays": ""}, "weekdays"),
            ({"holidays": "2026-02-30"}, "holidays"),
            ({"holidays": "2026/10/01"}, "holidays"),
            ({"holidays": "2026-10-07..2026-10-01"}, "holidays"),
            ({"holidays": "2026-01-01..2027-12-31"}, "holidays"),
            ({"workdays": "tomorrow"}, "workdays"),
            ({"holidays": "2026-10-10", "workdays": "2026-10-10"}, "holidays and workdays"),
            ({"zone": "Asia/Fuqing"}, "zone"),
        ],
    )
    def test_bad_settings_are_refused_by_name(self, settings: dict[str, str], named: str) -> None:
        with pytest.raises(CalendarError, match=f"^{named}:"):
            WorkingCalendar.from_config(**settings)


class TestWorkingDays:
    """Weekdays work, weekends and holidays do not, make-up days do."""

    def test_weekday_weekend_holiday_and_make_up_day(self) -> None:
        assert CALENDAR.is_working_day(dt.date(2026, 9, 14))
        assert not CALENDAR.is_working_day(dt.date(2026, 9, 19))
        assert not CALENDAR.is_working_day(dt.date(2026, 10, 1))
        assert CALENDAR.is_working_day(dt.date(2026, 10, 10))

    def test_period_ends_are_inside_working_hours_and_lunch_is_not(self) -> None:
        assert CALENDAR.is_working_instant(at(MON, "09:00"))
        assert CALENDAR.is_working_instant(at(MON, "12:00"))
        assert not CALENDAR.is_working_instant(at(MON, "12:01"))
        assert not CALENDAR.is_working_instant(at(SAT, "10:00"))

    def test_next_working_instant(self) -> None:
        assert CALENDAR.next_working_instant(at(MON, "12:30")) == at(MON, "13:30")
        assert CALENDAR.next_working_instant(at(FRI, "18:00")) == at(NEXT_MON, "09:00")
        assert CALENDAR.next_working_instant(at(MON, "10:15")) == at(MON, "10:15")


class TestAddWorkingTime:
    """Due instants count whole working days after the creation date, then working hours."""

    def test_working_hours_skip_the_lunch_break(self) -> None:
        assert CALENDAR.add_working_time(at(MON, "11:00"), 0, 2 * H) == at(MON, "14:30")

    def test_working_hours_skip_the_weekend(self) -> None:
        assert CALENDAR.add_working_time(at(FRI, "16:30"), 0, 2 * H) == at(NEXT_MON, "10:00")

    def test_time_running_out_at_a_period_end_stops_there(self) -> None:
        assert CALENDAR.add_working_time(at(MON, "11:00"), 0, H) == at(MON, "12:00")
        assert CALENDAR.add_working_time(at(MON, "16:30"), 0, H) == at(MON, "17:30")

    def test_counting_starts_at_the_next_working_instant(self) -> None:
        assert CALENDAR.add_working_time(at(MON, "07:00"), 0, H) == at(MON, "10:00")
        assert CALENDAR.add_working_time(at(SAT, "10:00"), 0, 30 * M) == at(NEXT_MON, "09:30")

    @pytest.mark.parametrize("clock", ["00:00", "08:00", "10:00", "17:30", "18:00", "23:59"])
    def test_one_working_day_ends_the_next_working_day_whatever_the_hour(self, clock: str) -> None:
        assert CALENDAR.add_working_time(at(MON, clock), 1, dt.timedelta(0)) == at(TUE, "17:30")

    def test_created_on_a_weekend_the_first_working_day_counts(self) -> None:
        assert CALENDAR.add_working_time(at(SAT, "10:00"), 1, dt.timedelta(0)) == at(
            NEXT_MON, "17:30"
        )

    def test_days_then_hours(self) -> None:
        assert CALENDAR.add_working_time(at(MON, "10:00"), 1, 2 * H) == at(WED, "11:00")

    def test_holidays_are_skipped_and_the_make_up_day_counts(self) -> None:
        created = at("2026-09-30", "10:00")
        expected = {
            1: at("2026-10-08", "17:30"),
            2: at("2026-10-09", "17:30"),
            3: at("2026-10-10", "17:30"),  # the make-up Saturday
            4: at("2026-10-12", "17:30"),
        }
        for days, due in expected.items():
            assert CALENDAR.add_working_time(created, days, dt.timedelta(0)) == due

    def test_zero_is_the_next_working_instant(self) -> None:
        assert CALENDAR.add_working_time(at(MON, "12:30"), 0, dt.timedelta(0)) == at(MON, "13:30")

    def test_instants_in_another_zone_mean_the_same_instant(self) -> None:
        start = at(MON, "11:00").astimezone(UTC)
        due = CALENDAR.add_working_time(start, 0, 2 * H)
        assert due == at(MON, "14:30")
        assert due.tzinfo == SHANGHAI

    def test_naive_instants_and_negative_amounts_are_refused(self) -> None:
        with pytest.raises(ValueError, match="time zone"):
            CALENDAR.add_working_time(dt.datetime(2026, 9, 14, 10), 0, H)
        with pytest.raises(ValueError, match="negative"):
            CALENDAR.add_working_time(at(MON, "10:00"), -1, H)
        with pytest.raises(ValueError, match="negative"):
            CALENDAR.add_working_time(at(MON, "10:00"), 0, -H)


class TestSubtractAndBetween:
    """Counting back for the warning, and measuring working time between two instants."""

    def test_counting_back_stops_at_a_period_start(self) -> None:
        assert CALENDAR.subtract_working_time(at(TUE, "17:30"), 4 * H) == at(TUE, "13:30")
        assert CALENDAR.subtract_working_time(at(TUE, "17:30"), 5 * H) == at(TUE, "11:00")

    def test_counting_back_skips_the_weekend(self) -> None:
        assert CALENDAR.subtract_working_time(at(NEXT_MON, "10:00"), 2 * H) == at(FRI, "16:30")

    def test_between(self) -> None:
        assert CALENDAR.working_time_between(at(MON, "09:00"), at(MON, "17:30")) == 7 * H
        assert CALENDAR.working_time_between(at(MON, "11:00"), at(MON, "14:00")) == 90 * M
        assert CALENDAR.working_time_between(at(FRI, "17:00"), at(NEXT_MON, "09:30")) == H
        assert CALENDAR.working_time_between(at(SAT, "09:00"), at(SAT, "17:00")) == dt.timedelta(0)
        assert CALENDAR.working_time_between(at(MON, "14:00"), at(MON, "11:00")) == -90 * M


class TestDeadline:
    """A request's warning and due instants."""

    def test_warning_before_due(self) -> None:
        deadline = CALENDAR.deadline(
            at(MON, "10:00"), days=3, time=dt.timedelta(0), warning_before=4 * H
        )
        assert deadline.due_at == at("2026-09-17", "17:30")
        assert deadline.warning_at == at("2026-09-17", "13:30")

    def test_a_warning_longer_than_the_limit_starts_at_creation(self) -> None:
        created = at(MON, "10:00")
        deadline = CALENDAR.deadline(created, days=0, time=2 * H, warning_before=8 * H)
        assert deadline.due_at == at(MON, "12:00")
        assert deadline.warning_at == created


class TestSlaMark:
    """On time before the warning, warning from it until due, overdue after."""

    def test_boundaries(self) -> None:
        warning, due = at(MON, "13:30"), at(MON, "17:30")
        second = dt.timedelta(seconds=1)
        assert sla_mark(warning - second, warning, due) == proofs_pb2.SLA_MARK_ON_TIME
        assert sla_mark(warning, warning, due) == proofs_pb2.SLA_MARK_WARNING
        assert sla_mark(due, warning, due) == proofs_pb2.SLA_MARK_WARNING
        assert sla_mark(due + second, warning, due) == proofs_pb2.SLA_MARK_OVERDUE

    def test_without_a_warning_instant(self) -> None:
        due = at(MON, "17:30")
        assert sla_mark(due, None, due) == proofs_pb2.SLA_MARK_ON_TIME
        assert sla_mark(due + M, None, due) == proofs_pb2.SLA_MARK_OVERDUE


# --- properties --------------------------------------------------------------------

FIRST_DAY = dt.date(2026, 9, 1)
DAYS = [FIRST_DAY + dt.timedelta(days=n) for n in range(120)]


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random calendars: 1-3 periods on a 5-minute grid, some weekdays, holidays, make-up days."""
    count = draw(st.integers(1, 3))
    points = sorted(draw(st.sets(st.integers(0, 287), min_size=2 * count, max_size=2 * count)))
    hours = tuple(
        (_minute(points[2 * i] * 5), _minute(points[2 * i + 1] * 5)) for i in range(count)
    )
    weekdays = draw(st.frozensets(st.integers(1, 7), min_size=1))
    holidays = draw(st.frozensets(st.sampled_from(DAYS), max_size=20))
    workdays = draw(st.frozensets(st.sampled_from(DAYS), max_size=5)) - holidays
    return WorkingCalendar(SHANGHAI, hours, weekdays, holidays, workdays)


def _minute(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


instants = st.datetimes(
    min_value=dt.datetime(2026, 9, 1),
    max_value=dt.datetime(2026, 12, 31),
    timezones=st.just(SHANGHAI),
)
amounts = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=40))
whole_days = st.integers(0, 15)
any_calendar = st.one_of(st.just(CALENDAR), calendars())


class TestProperties:
    """What must hold for every calendar, instant and amount."""

    @given(any_calendar, instants, whole_days, amounts)
    def test_the_due_instant_is_inside_working_hours(
        self, calendar: WorkingCalendar, start: dt.datetime, days: int, time: dt.timedelta
    ) -> None:
        due = calendar.add_working_time(start, days, time)
        assert calendar.is_working_instant(due)
        assert due >= start

    @given(any_calendar, instants, instants, whole_days, amounts)
    def test_later_creation_is_never_due_earlier(
        self,
        calendar: WorkingCalendar,
        a: dt.datetime,
        b: dt.datetime,
        days: int,
        time: dt.timedelta,
    ) -> None:
        first, second = sorted((a, b))
        assert calendar.add_working_time(first, days, time) <= calendar.add_working_time(
            second, days, time
        )

    @given(any_calendar, instants, whole_days, amounts, amounts)
    def test_a_longer_limit_is_never_due_earlier(
        self,
        calendar: WorkingCalendar,
        start: dt.datetime,
        days: int,
        t1: dt.timedelta,
        t2: dt.timedelta,
    ) -> None:
        shorter, longer = sorted((t1, t2))
        assert calendar.add_working_time(start, days, shorter) <= calendar.add_working_time(
            start, days, longer
        )
        assert calendar.add_working_time(start, days, t1) <= calendar.add_working_time(
            start, days + 1, t1
        )

    @given(any_calendar, instants, amounts)
    def test_working_time_between_start_and_due_is_the_limit(
        self, calendar: WorkingCalendar, start: dt.datetime, time: dt.timedelta
    ) -> None:
        due = calendar.add_working_time(start, 0, time)
        assert calendar.working_time_between(start, due) == time

    @given(any_calendar, instants, amounts)
    def test_add_then_subtract_returns_to_a_working_start(
        self, calendar: WorkingCalendar, instant: dt.datetime, time: dt.timedelta
    ) -> None:
        start = calendar.next_working_instant(instant)
        # A period's end and the next period's start are the same point in working
        # time; the round trip lands on the start, so ends are left out.
        assume(start.timetz().replace(tzinfo=None) not in {end for _, end in calendar.hours})
        due = calendar.add_working_time(start, 0, time)
        assert calendar.subtract_working_time(due, time) == start

    @given(any_calendar, instants, amounts)
    def test_subtract_lands_inside_working_hours_the_right_distance_back(
        self, calendar: WorkingCalendar, instant: dt.datetime, time: dt.timedelta
    ) -> None:
        due = calendar.next_working_instant(instant)
        warning = calendar.subtract_working_time(due, time)
        assert calendar.is_working_instant(warning)
        assert warning <= due
        assert calendar.working_time_between(warning, due) == time

    @given(any_calendar, instants, instants, instants)
    def test_working_time_adds_up(
        self, calendar: WorkingCalendar, a: dt.datetime, b: dt.datetime, c: dt.datetime
    ) -> None:
        between = calendar.working_time_between
        assert between(a, b) + between(b, c) == between(a, c)
        assert between(a, b) == -between(b, a)

    @given(instants, instants, instants, instants)
    def test_the_sla_mark_only_gets_worse_with_time(
        self, n1: dt.datetime, n2: dt.datetime, w: dt.datetime, d: dt.datetime
    ) -> None:
        warning, due = sorted((w, d))
        early, late = sorted((n1, n2))
        assert sla_mark(early, warning, due) <= sla_mark(late, warning, due)
