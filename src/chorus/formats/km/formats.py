# Khmer: "ពុធ 2 ធ្នូ 2026, 14:30" (Khmer month names are short already; CLDR's separators).
DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j F Y, H:i"
SHORT_DATETIME_FORMAT = "D j F, H:i"
SHORT_DATE_FORMAT = "j F Y"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
