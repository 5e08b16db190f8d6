"""The model's calendar: months, school years and when things happen in them.

Model time ``t`` counts months: the step at time ``t = 1, 2, …`` simulates month ``t - 1``
counted from January of ``start_year`` (month index 0). Events that belong to the start of
month ``m`` (January demography, April reviews, July end of the school year, September intake,
and the levers) run at time ``m + 0.5``, before that month's step; events that record the end of
month ``m`` run with the step at time ``m + 1``. Within one time, Mesa runs events by priority
(HIGH, DEFAULT, LOW), then in the order they were scheduled.
"""

from __future__ import annotations

import math

JANUARY, FEBRUARY, MARCH, APRIL, MAY, JUNE, JULY, AUGUST, SEPTEMBER, OCTOBER, NOVEMBER, DECEMBER = range(12)
MONTHS_PER_YEAR = 12


def start_of_month(month_index: int) -> float:
    """Model time of the events at the start of month ``month_index`` (before its step)."""
    return month_index + 0.5


def month_index(time: float) -> int:
    """Month (0-based, from January of start_year) being processed at model time ``time``."""
    return max(math.ceil(time) - 1, 0)
