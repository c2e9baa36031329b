from django import forms
from django.utils.translation import gettext_lazy as _

from api.tokens.scopes import ALL_SCOPES

LIFETIMES = [("30", _("30 days")), ("90", _("90 days")), ("365", _("1 year")), ("", _("Never"))]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “CRM sync”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=[(s, s) for s in ALL_SCOPES], widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.ChoiceField(label=_("Expires after"), choices=LIFETIMES, initial="90", required=False)

    def __init__(self, *args, allowed: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(s, s) for s in ALL_SCOPES if s in allowed]

    def clean_expires_in_days(self):
        value = self.cleaned_data.get("expires_in_days")
        return int(value) if value else None
