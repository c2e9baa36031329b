"""Estonian: 1.12.2026 09:00, the way Estonian readers write a date and a time.

Django's `et` module gives only a date (d.m.Y) and a time without the leading zero (G:i); its date
and time together fall back to the American default. Day and month without leading zeros, and
hours with one, is the common Estonian form. The long and short forms are the same, so a time looks
alike on every page.
"""

DATE_FORMAT = "j.n.Y"
SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j.n.Y H:i"
SHORT_DATETIME_FORMAT = "j.n.Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j. F"
FIRST_DAY_OF_WEEK = 1  # Monday
# Input formats stay Django's (ISO first): the portal's date and time inputs send ISO values.
