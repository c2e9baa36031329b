"""English as the provider's and the client companies' people read it in Europe.

Dates are ISO 8601 (2026-12-01) and the clock has 24 hours (09:00): Django's `en` formats are
American (12/01/2026 9 a.m.), which a European reader takes for the 12th of January, while an ISO
date reads the same way to everyone and sorts as text. The long and short forms are the same, so a
time looks alike on every page, in the portal's templates and in the admin's columns.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday
# Input formats stay Django's (ISO first): the portal's date and time inputs send ISO values.
