"""The period-and-line filter of the service-level screens, the CSV and the API: the analytics
screen's (audit/forms.py), so a period means the same everywhere. A line the company does not have
is "not found" (404), as any other record of another company is."""

from django.http import Http404

from audit.forms import AnalyticsFilterForm


class LevelsFilterForm(AnalyticsFilterForm):
    def is_valid(self) -> bool:
        valid = super().is_valid()
        if not valid and "line" in self.errors:
            raise Http404("No such line.")
        return valid
