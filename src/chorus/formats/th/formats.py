# Thai: "พ. 2 ธ.ค. 2026, 14:30 น." (น. = นาฬิกา, as Thai writes clock times).
# Years stay Gregorian (ค.ศ.): times are also pasted into CSV imports and shared with networks.
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i น."
DATETIME_FORMAT = "D j M Y, H:i น."
SHORT_DATETIME_FORMAT = "D j M, H:i น."
SHORT_DATE_FORMAT = "j M Y"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 0  # Sunday
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
