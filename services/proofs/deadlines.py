"""Deadlines in working time (限时办结): the working calendar and its arithmetic.

Pure rules, no I/O, no clock: every function takes the instants it needs. A
:class:`WorkingCalendar` knows which days are working days (ISO weekdays, minus
holidays, plus make-up working days, 调休) and the working hours of a working day
(one or more periods of local wall-clock time, such as 09:00–12:00 and
13:30–17:30, in one zone such as Asia/Shanghai).

How a limit of "N working days and T working time" is counted
(:meth:`WorkingCalendar.add_working_time`):

- The day of creation never counts, whatever the hour and whether or not it is a
  working day ("自受理之日起N个工作日": the period starts the next day). The due
  instant of N ≥ 1 working days is the end of the last working period of the Nth
  working day after the creation date: a request created on Monday at 10:00 or at
  18:00 with a limit of 1 working day is due on Tuesday at 17:30.
- Working time T is then counted inside working hours only, from that instant (or,
  for N = 0, from creation): 2 working hours from Friday 16:30 end on Monday 10:00.
  When T runs out exactly at the end of a period, the due instant is that end
  (17:30 on the day, not 09:00 the next morning).
- A zero limit yields the first working instant at or after the start.

Every instant a calendar returns lies inside working hours, period ends included,
and is expressed in the calendar's zone. Periods are wall-clock times: in a zone
with daylight saving a period's length is its wall-clock length (China has had no
daylight saving since 1991). The warning instant (预警) is counted backwards from
the due instant with :meth:`WorkingCalendar.subtract_working_time`; :func:`sla_mark`
then places "now" against the two.

Shortest use::

    calendar = WorkingCalendar.from_config(
        hours="09:00-12:00,13:30-17:30", weekdays="1-5",
        holidays="2026-10-01..2026-10-07", workdays="2026-10-10", zone="Asia/Shanghai",
    )
    deadline = calendar.deadline(created_at, days=3, time=timedelta(0),
                                 warning_before=timedelta(hours=4))
    mark = sla_mark(now, deadline.warning_at, deadline.due_at)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from genproto.certfree.proofs.v1 import proofs_pb2
from genproto.certfree.proofs.v1.proofs_pb2 import SlaMark

DEFAULT_HOURS = "09:00-12:00,13:30-17:30"
"""Working hours when none are configured: a government office's morning and afternoon."""

DEFAULT_WEEKDAYS = "1-5"
"""Working weekdays when none are configured: Monday (1) to Friday (5), ISO numbering."""

DEFAULT_ZONE = "Asia/Shanghai"
"""The zone working hours are read in when none is configured (China Standard Time)."""

MAX_PERIODS = 4
"""Most working periods one day may have; two is usual (morning and afternoon)."""

MAX_RANGE_DAYS = 400
"""Longest ``first..last`` date range in a holiday or workday setting, in days."""

_ZERO = dt.timedelta(0)
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_WEEKDAYS = re.compile(r"([1-7])(?:-([1-7]))?")


class CalendarError(ValueError):
    """A working-calendar setting is invalid; the message names the setting and the part."""


@dataclass(frozen=True)
class Deadline:
    """When a request turns yellow and when it is due, both in working time."""

    warning_at: dt.datetime
    """When the request turns yellow (预警); never before its creation."""

    due_at: dt.datetime
    """When the request is due (限时); answered at this instant is still on time."""


@dataclass(frozen=True)
class WorkingCalendar:
    """The deployment's working days and hours, in one zone."""

    zone: ZoneInfo
    """The zone the working hours and dates are read in."""

    hours: tuple[tuple[dt.time, dt.time], ...]
    """The working periods of a working day, as (start, end) local times, in order,
    not overlapping, each start before its end; 1 to :data:`MAX_PERIODS` of them."""

    weekdays: frozenset[int]
    """ISO weekdays (1 Monday … 7 Sunday) that are working days unless a holiday; not empty."""

    holidays: frozenset[dt.date] = frozenset()
    """Dates that are not working days although their weekday is (法定节假日)."""

    workdays: frozenset[dt.date] = frozenset()
    """Make-up working days (调休): dates that are working days although their weekday is not."""

    def __post_init__(self) -> None:
        """Refuse a calendar the arithmetic cannot work with."""
        if not 1 <= len(self.hours) <= MAX_PERIODS:
            raise CalendarError(f"hours: give 1 to {MAX_PERIODS} working periods a day")
        previous_end: dt.time | None = None
        for start, end in self.hours:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise CalendarError("hours: periods are local times without a zone")
            if not start < end:
                raise CalendarError(
                    f"hours: period {_span(start, end)} does not start before it ends"
                )
            if previous_end is not None and start < previous_end:
                raise CalendarError(
                    f"hours: period {_span(start, end)} starts before the previous one ends"
                )
            previous_end = end
        # Without a working weekday, counting forward would never end once the
        # (finite) make-up days are used up.
        if not self.weekdays:
            raise CalendarError("weekdays: at least one weekday must be a working day")
        if not self.weekdays <= set(range(1, 8)):
            raise CalendarError("weekdays: ISO weekdays are 1 (Monday) to 7 (Sunday)")
        both = sorted(self.holidays & self.workdays)
        if both:
            raise CalendarError(
                f"holidays and workdays: {both[0].isoformat()} is given as both a holiday "
                "and a make-up working day"
            )

    @classmethod
    def from_config(
        cls,
        *,
        hours: str = DEFAULT_HOURS,
        weekdays: str = DEFAULT_WEEKDAYS,
        holidays: str | Iterable[str] = "",
        workdays: str | Iterable[str] = "",
        zone: str = DEFAULT_ZONE,
    ) -> WorkingCalendar:
        """Build a calendar from settings strings, raising :class:`CalendarError` if one is bad.

        - `hours`: comma-separated ``HH:MM-HH:MM`` periods, ``"09:00-12:00,13:30-17:30"``;
        - `weekdays`: comma-separated ISO weekdays or ranges, ``"1-5"`` or ``"1-3,5"``;
        - `holidays`, `workdays`: comma-separated dates or inclusive ranges
          ``first..last`` (``"2026-10-01..2026-10-07,2027-01-01"``), or an iterable of
          such items; empty for none;
        - `zone`: an IANA zone name, ``"Asia/Shanghai"``.
        """
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"zone: {zone!r} is not a known IANA time zone") from None
        return cls(
            zone=tz,
            hours=_parse_hours(hours),
            weekdays=_parse_weekdays(weekdays),
            holidays=_parse_dates("holidays", holidays),
            workdays=_parse_dates("workdays", workdays),
        )

    # --- days and instants -------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Report whether `day` is a working day: a make-up day, or a working weekday not off."""
        if day in self.workdays:
            return True
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def is_working_instant(self, instant: dt.datetime) -> bool:
        """Report whether `instant` lies inside working hours (period ends included)."""
        local = self._local(instant)
        return any(start <= local <= end for start, end in self._periods(local.date()))

    def next_working_instant(self, instant: dt.datetime) -> dt.datetime:
        """The first instant inside working hours at or after `instant`."""
        return self._aware(self._forward(self._local(instant), _ZERO))

    # --- arithmetic --------------------------------------------------------------

    def add_working_time(self, start: dt.datetime, days: int, time: dt.timedelta) -> dt.datetime:
        """The due instant of a limit of `days` working days and `time` working time from `start`.

        Counted as the module docstring says: the end of the `days`-th working day
        after the date of `start` (for `days` ≥ 1), then `time` more inside working
        hours. Raises :class:`ValueError` for a naive `start` or a negative amount.
        """
        if days < 0 or time < _ZERO:
            raise ValueError("a working-time limit cannot be negative")
        local = self._local(start)
        if days == 0:
            return self._aware(self._forward(local, time))
        day = local.date()
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        end_of_day = self._periods(day)[-1][1]
        return self._aware(self._forward(end_of_day, time))

    def subtract_working_time(self, due: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The latest instant inside working hours with `duration` of working time left until `due`.

        Used for the warning instant: ``subtract_working_time(due_at, warning_before)``.
        Counting back to the start of a period stops there (13:30, not 12:00).
        Raises :class:`ValueError` for a naive `due` or a negative `duration`.
        """
        if duration < _ZERO:
            raise ValueError("a working-time duration cannot be negative")
        return self._aware(self._backward(self._local(due), duration))

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """The working time from `a` to `b`; negative when `b` is before `a`."""
        if b < a:
            return -self.working_time_between(b, a)
        first, last = self._local(a), self._local(b)
        total = _ZERO
        day = first.date()
        while day <= last.date():
            for start, end in self._periods(day):
                overlap = min(end, last) - max(start, first)
                if overlap > _ZERO:
                    total += overlap
            day += dt.timedelta(days=1)
        return total

    def deadline(
        self,
        created_at: dt.datetime,
        *,
        days: int,
        time: dt.timedelta,
        warning_before: dt.timedelta,
    ) -> Deadline:
        """The warning and due instants of a request created at `created_at`.

        The due instant is :meth:`add_working_time`; the warning instant is
        `warning_before` of working time before it, but never before `created_at`
        (a warning longer than the limit makes the request yellow from the start).
        """
        due = self.add_working_time(created_at, days, time)
        warning = self.subtract_working_time(due, warning_before)
        return Deadline(warning_at=max(warning, created_at.astimezone(self.zone)), due_at=due)

    # --- internals: naive local wall-clock datetimes ------------------------------

    def _local(self, instant: dt.datetime) -> dt.datetime:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("instants must carry a time zone (an aware datetime)")
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def _aware(self, local: dt.datetime) -> dt.datetime:
        return local.replace(tzinfo=self.zone)

    def _periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (dt.datetime.combine(day, start), dt.datetime.combine(day, end))
            for start, end in self.hours
        ]

    def _forward(self, instant: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The earliest working instant with `amount` of working time since `instant`."""
        remaining = amount
        day = instant.date()
        while True:
            for start, end in self._periods(day):
                if end < instant:
                    continue
                begin = max(start, instant)
                available = end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += dt.timedelta(days=1)

    def _backward(self, instant: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The latest working instant with `amount` of working time between it and `instant`."""
        remaining = amount
        day = instant.date()
        while True:
            for start, end in reversed(self._periods(day)):
                if start > instant:
                    continue
                finish = min(end, instant)
                available = finish - start
                if remaining <= available:
                    return finish - remaining
                remaining -= available
            day -= dt.timedelta(days=1)


def sla_mark(now: dt.datetime, warning_at: dt.datetime | None, due_at: dt.datetime) -> SlaMark:
    """The SLA mark at `now`: ON_TIME before `warning_at`, WARNING from it, OVERDUE after `due_at`.

    Exactly at `due_at` a request is still WARNING (an answer then is on time);
    exactly at `warning_at` it is already WARNING. Without a warning instant a
    request goes straight from ON_TIME to OVERDUE.
    """
    if now > due_at:
        return proofs_pb2.SLA_MARK_OVERDUE
    if warning_at is not None and now >= warning_at:
        return proofs_pb2.SLA_MARK_WARNING
    return proofs_pb2.SLA_MARK_ON_TIME


# --- settings parsers ------------------------------------------------------------------


def _span(start: dt.time, end: dt.time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def _parse_hours(text: str) -> tuple[tuple[dt.time, dt.time], ...]:
    periods: list[tuple[dt.time, dt.time]] = []
    for part in _items(text):
        match = _HOURS.fullmatch(part)
        if match is None:
            raise CalendarError(f"hours: {part!r} is not a period HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        try:
            periods.append((dt.time(h1, m1), dt.time(h2, m2)))
        except ValueError:
            raise CalendarError(f"hours: {part!r} is not a real time of day") from None
    if not periods:
        raise CalendarError("hours: give at least one working period")
    return tuple(periods)


def _parse_weekdays(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in _items(text):
        match = _WEEKDAYS.fullmatch(part)
        if match is None:
            raise CalendarError(f"weekdays: {part!r} is not an ISO weekday 1-7 or a range 1-5")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise CalendarError(f"weekdays: range {part!r} runs backwards")
        days.update(range(first, last + 1))
    return frozenset(days)


def _parse_dates(setting: str, value: str | Iterable[str]) -> frozenset[dt.date]:
    parts = _items(value) if isinstance(value, str) else [p for v in value for p in _items(v)]
    dates: set[dt.date] = set()
    for part in parts:
        first_text, separator, last_text = part.partition("..")
        first = _parse_date(setting, first_text)
        last = _parse_date(setting, last_text) if separator else first
        if last < first:
            raise CalendarError(f"{setting}: range {part!r} runs backwards")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise CalendarError(f"{setting}: range {part!r} is longer than {MAX_RANGE_DAYS} days")
        dates.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(dates)


def _parse_date(setting: str, text: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise CalendarError(f"{setting}: {text!r} is not a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"{setting}: {text!r} is not a real calendar date") from None


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
