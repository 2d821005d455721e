"""Reporting periods of the curated figures, turned into first and last day.

Japanese fiscal years run April to March: ``fiscal_year_jp`` 2016 is 2016-04-01 .. 2017-03-31. See
``shared/data/curated/README.md`` for the codes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from dualthreat.ingest.base import RowError

PERIOD_TYPES = (
    "year",
    "fiscal_year_jp",
    "half_fiscal_year_jp",
    "quarter_fiscal_year_jp",
    "half_year",
    "four_month",
    "month",
    "date",
    "period_range",
)


def _month_end(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    n = y * 12 + (m - 1) + k
    return n // 12, n % 12 + 1


def _months(y: int, m: int, length: int) -> tuple[dt.date, dt.date]:
    ey, em = _add_months(y, m, length - 1)
    return dt.date(y, m, 1), _month_end(ey, em)


def _ym(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(text)
    return int(m.group(1)), int(m.group(2))


def period_bounds(period_type: str, period: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``period`` (raises RowError naming the ``period`` field)."""
    try:
        if period_type == "year":
            y = int(re.fullmatch(r"\d{4}", period).group())  # type: ignore[union-attr]
            return dt.date(y, 1, 1), dt.date(y, 12, 31)
        if period_type == "fiscal_year_jp":
            y = int(re.fullmatch(r"\d{4}", period).group())  # type: ignore[union-attr]
            return _months(y, 4, 12)
        if period_type in ("half_fiscal_year_jp", "half_year"):
            m = re.fullmatch(r"(\d{4})H([12])", period)
            y, h = int(m.group(1)), int(m.group(2))  # type: ignore[union-attr]
            first = 4 if period_type == "half_fiscal_year_jp" else 1
            return _months(*_add_months(y, first, 6 * (h - 1)), 6)
        if period_type == "quarter_fiscal_year_jp":
            m = re.fullmatch(r"(\d{4})Q([1-4])", period)
            y, q = int(m.group(1)), int(m.group(2))  # type: ignore[union-attr]
            return _months(*_add_months(y, 4, 3 * (q - 1)), 3)
        if period_type == "four_month":
            a, b = period.split("/")
            (y1, m1), (y2, m2) = _ym(a), _ym(b)
            if (y2, m2) < (y1, m1):
                raise ValueError(period)
            return dt.date(y1, m1, 1), _month_end(y2, m2)
        if period_type == "month":
            y, mo = _ym(period)
            return _months(y, mo, 1)
        if period_type == "date":
            if re.fullmatch(r"\d{4}-\d{2}", period):  # a dated event known only to the month
                y, mo = _ym(period)
                return _months(y, mo, 1)
            d = dt.date.fromisoformat(period)
            return d, d
        if period_type == "period_range":
            a, b = (int(x) for x in re.fullmatch(r"(\d{4})/(\d{4})", period).groups())  # type: ignore[union-attr]
            if b < a:
                raise ValueError(period)
            return dt.date(a, 1, 1), dt.date(b, 12, 31)
    except (AttributeError, ValueError):
        raise RowError("period", f"{period[:40]!r} is not a valid {period_type} period") from None
    raise RowError("period_type", f"{period_type[:40]!r} is not one of {', '.join(PERIOD_TYPES)}")
