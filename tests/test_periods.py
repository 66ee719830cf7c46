"""Tests of jeugdkit.periods: labels, peildatum, end and the linked years."""

from __future__ import annotations

import pandas as pd
import pytest

from jeugdkit.periods import Period, PeriodError


@pytest.mark.parametrize("label, start, end", [
    ("2023", "2023-01-01", "2023-12-31"),
    ("2023H1", "2023-01-01", "2023-06-30"),
    ("2023h2", "2023-07-01", "2023-12-31"),
    (2024, "2024-01-01", "2024-12-31"),
])
def test_peildatum_is_first_day_and_end_is_inclusive(label, start, end):
    p = Period.parse(label)
    assert p.peildatum == pd.Timestamp(start)
    assert p.einde == pd.Timestamp(end)
    assert p.years == [p.year]


def test_linked_years():
    h1, h2 = Period.parse("2023H1"), Period.parse("2023H2")
    assert (h1.income_year, h2.income_year) == (2022, 2022)
    # 1 January and 1 July are before August: the school year that started the year before
    assert (h1.school_year, h2.school_year) == (2022, 2022)
    # the latest 1 October before the peildatum is in the year before
    assert (h1.education_year, h2.education_year) == (2022, 2022)
    assert str(h2) == "2023H2"


@pytest.mark.parametrize("bad", ["2023H3", "23", "2023-1", "", "H1"])
def test_bad_labels_raise(bad):
    with pytest.raises(PeriodError, match="expected a year"):
        Period.parse(bad)
