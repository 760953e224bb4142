"""Dates, times and numbers in each language: one shape, names from the catalogues."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format, number_format

WHEN = dt.datetime(2026, 12, 2, 14, 30)  # a Wednesday

EXPECTED = {
    "en": ("Wed 2 Dec 2026, 14:30", "Wed 2 Dec, 14:30", "December 2026", "1234.5"),
    "th": ("พ. 2 ธ.ค. 2026, 14:30 น.", "พ. 2 ธ.ค., 14:30 น.", "ธันวาคม 2026", "1234.5"),
    "km": ("ពុធ 2 ធ្នូ 2026, 14:30", "ពុធ 2 ធ្នូ, 14:30", "ធ្នូ 2026", "1234,5"),
    "hy": ("Չրք 2 Դեկ 2026, 14:30", "Չրք 2 Դեկ, 14:30", "Դեկտեմբեր 2026", "1234,5"),
    "sw": ("Jtano 2 Dis 2026, 14:30", "Jtano 2 Dis, 14:30", "Disemba 2026", "1234.5"),
}


@pytest.mark.parametrize("lang", list(EXPECTED))
def test_each_language_writes_dates_and_numbers_its_own_way(lang):
    full, short, month, number = EXPECTED[lang]
    with translation.override(lang):
        assert date_format(WHEN, "DATETIME_FORMAT") == full
        assert date_format(WHEN, "SHORT_DATETIME_FORMAT") == short
        assert date_format(WHEN, "YEAR_MONTH_FORMAT") == month
        assert number_format(1234.5, 1) == number
        rendered = Template('{{ when|date:"DATETIME_FORMAT" }} {{ n|floatformat:1 }}').render(
            Context({"when": WHEN, "n": 1234.5})
        )
        assert rendered == f"{full} {number}"


def test_khmer_weekdays_are_khmer_in_the_calendar_header():
    """The calendar's weekday row uses the `D` format, which Django has no Khmer for."""
    with translation.override("km"):
        names = [date_format(dt.date(2024, 1, 1 + n), "D") for n in range(7)]
    assert names == ["ច័ន្ទ", "អង្គារ", "ពុធ", "ព្រហស្បតិ៍", "សុក្រ", "សៅរ៍", "អាទិត្យ"]


@pytest.mark.parametrize(
    ("lang", "required"),
    [
        ("km", "សូមបំពេញកន្លែងនេះ។"),
        ("th", "กรุณากรอกช่องนี้"),
        ("hy", "Այս դաշտը պարտադիր է։"),
        ("sw", "Sehemu hii inahitajika."),
    ],
)
def test_djangos_own_form_errors_are_translated(lang, required):
    from django import forms

    class Form(forms.Form):
        email = forms.EmailField()

    with translation.override(lang):
        form = Form({"email": ""})
        assert form.errors["email"] == [required]
