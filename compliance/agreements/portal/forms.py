from django import forms
from django.utils.translation import gettext_lazy as _


class RejectForm(forms.Form):
    comment = forms.CharField(
        label=_("Why do you reject this version?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the objection"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
