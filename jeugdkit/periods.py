"""Periods of analysis: a year (`2023`) or a half-year (`2023H1`, `2023H2`).

A period's peildatum is its first day; the period runs to its last day inclusive::

    p = Period.parse("2023H2")
    p.peildatum, p.einde            # Timestamp('2023-07-01'), Timestamp('2023-12-31')
    p.income_year                   # 2022: the income year before the peildatum's year
    p.school_year                   # 2022: 1 July is before August, school year 2022/23
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from jeugdkit.errors import PeriodError

_PERIOD = re.compile(r"^\s*(?P<year>\d{4})\s*(?:[Hh](?P<half>[12]))?\s*$")
SCHOOL_YEAR_START_MONTH = 8
"""A school year starts in August: a peildatum before August belongs to the school year that
started the calendar year before (INSCHRWPOTAB{Y} is the school year starting in Y)."""
EDUCATION_REFERENCE = (10, 1)
"""HOOGSTEOPLTAB{Y} describes the situation on 1 October of Y."""


@dataclass(frozen=True)
class Period:
    """A year or half-year: label, first day (peildatum) and last day (inclusive)."""

    label: str
    year: int
    half: int | None = None

    @classmethod
    def parse(cls, value: str | int | Period) -> Period:
        """Return the period of a label: `2023`, `2023H1` or `2023H2` (case-insensitive)."""
        if isinstance(value, Period):
            return value
        match = _PERIOD.match(str(value))
        if not match:
            raise PeriodError(
                f"period {value!r}: expected a year (2023) or a half-year (2023H1, 2023H2)")
        year = int(match["year"])
        half = int(match["half"]) if match["half"] else None
        label = f"{year}" if half is None else f"{year}H{half}"
        return cls(label, year, half)

    @property
    def peildatum(self) -> pd.Timestamp:
        """Return the first day of the period (the reference date of the population)."""
        return pd.Timestamp(self.year, 7 if self.half == 2 else 1, 1)

    @property
    def einde(self) -> pd.Timestamp:
        """Return the last day of the period (inclusive)."""
        return pd.Timestamp(self.year, 6, 30) if self.half == 1 else pd.Timestamp(self.year, 12, 31)

    @property
    def income_year(self) -> int:
        """Return the income year linked to the period: the year before the peildatum's year."""
        return self.peildatum.year - 1

    @property
    def school_year(self) -> int:
        """Return the start year of the school year covering the peildatum (INSCHRWPOTAB{Y})."""
        pd_ = self.peildatum
        return pd_.year if pd_.month >= SCHOOL_YEAR_START_MONTH else pd_.year - 1

    @property
    def education_year(self) -> int:
        """Return Y of the HOOGSTEOPLTAB file of the latest 1 October on or before the peildatum."""
        pd_ = self.peildatum
        month, day = EDUCATION_REFERENCE
        return pd_.year if (pd_.month, pd_.day) >= (month, day) else pd_.year - 1

    @property
    def years(self) -> list[int]:
        """Return the calendar years the period touches (per-year jeugd files to read)."""
        return list(range(self.peildatum.year, self.einde.year + 1))

    def __str__(self) -> str:
        return self.label
