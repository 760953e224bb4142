"""Date, time and number formats for every language Chorus ships (settings.FORMAT_MODULE_PATH).

All five share one shape, so a page reads the same in any language: day before month, a
24-hour clock, the weekday where a time is planned around (DATETIME_FORMAT and
SHORT_DATETIME_FORMAT). Month and weekday names come from the catalogues. Templates use these
names only (`|date:"DATETIME_FORMAT"`), never a literal pattern. See docs/translating.md.
"""
