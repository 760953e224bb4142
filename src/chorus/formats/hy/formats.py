# Armenian: "Չրք 2 դեկ 2026, 14:30" (Django ships no Armenian formats; CLDR's separators).
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y, H:i"
SHORT_DATETIME_FORMAT = "D j M, H:i"
SHORT_DATE_FORMAT = "d.m.Y"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"  # a no-break space
NUMBER_GROUPING = 3
