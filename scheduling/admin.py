"""Scheduling in the provider's admin: configuration for supervisors, booking for agents."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.formats import date_format

from crm.models import Contact
from gates.admin import GatedInline, GatedModelAdmin
from gates.admin_views import GatedAdminView
from gates.engine import Role
from scheduling.models import (
    Appointment,
    AvailabilityException,
    OnCallShift,
    ReminderSettings,
    Resource,
    Service,
    StaffMember,
    WeeklyAvailability,
)
from scheduling.selectors import company_zone, slots_find
from scheduling.services import appointment_book, feed_issue, feed_revoke
from tenants.errors import ApplicationError
from tenants.inputs import validate_date_in_range

CONFIGURERS = (Role.SUPERVISOR,)


def _local(moment: dt.datetime) -> str:
    """A time as every screen shows it: the company's zone, the language's format, the zone named."""
    zone = company_zone()
    return f"{date_format(moment.astimezone(zone), 'SHORT_DATETIME_FORMAT')} ({zone.key})"


@admin.register(Service)
class ServiceAdmin(GatedModelAdmin):
    list_display = ["name", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes", "active"]
    change_roles = add_roles = CONFIGURERS


class WeeklyAvailabilityInline(GatedInline):
    model = WeeklyAvailability
    change_roles = add_roles = CONFIGURERS


class AvailabilityExceptionInline(GatedInline):
    model = AvailabilityException
    change_roles = add_roles = CONFIGURERS


@admin.register(Resource)
class ResourceAdmin(GatedModelAdmin):
    list_display = ["label", "kind", "feed_issued_at", "feed_includes_names"]
    fields = ["label", "kind", "staff", "services", "feed_includes_names", "feed_issued_at"]
    readonly_fields = ["feed_issued_at"]
    inlines = [WeeklyAvailabilityInline, AvailabilityExceptionInline]
    change_roles = add_roles = CONFIGURERS
    actions = ["export_csv", "issue_feed", "revoke_feed"]

    @admin.action(description="Issue a new calendar-feed URL (the old one stops working)")
    def issue_feed(self, request, queryset):
        if self.gate_policy(request).role not in CONFIGURERS:
            messages.error(request, "Only a supervisor can issue calendar feeds.")
            return
        for resource in queryset:
            token = feed_issue(resource=resource, actor=request.user)
            domain = self.gate_company(request).get_primary_domain().domain
            url = f"{request.scheme}://{domain}:{request.get_port()}/calendar/{token}.ics"
            messages.success(request, f"{resource}: {url} (shown once: copy it now)")

    @admin.action(description="Revoke the calendar feed")
    def revoke_feed(self, request, queryset):
        if self.gate_policy(request).role not in CONFIGURERS:
            messages.error(request, "Only a supervisor can revoke calendar feeds.")
            return
        for resource in queryset:
            feed_revoke(resource=resource, actor=request.user)
        messages.success(request, f"Revoked {queryset.count()} feed(s).")


@admin.register(StaffMember)
class StaffMemberAdmin(GatedModelAdmin):
    list_display = ["__str__", "name", "phone_number", "email", "active"]
    fields = ["name", "phone_number", "email", "active"]
    change_roles = add_roles = CONFIGURERS


@admin.register(OnCallShift)
class OnCallShiftAdmin(GatedModelAdmin):
    list_display = ["__str__", "line", "staff", "starts_at", "ends_at", "position"]
    list_filter = [("line", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["line", "staff"]
    change_roles = add_roles = CONFIGURERS


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(GatedModelAdmin):
    list_display = ["__str__", "email_enabled", "sms_enabled", "lead_hours", "include_service", "include_resource"]
    change_roles = add_roles = CONFIGURERS


class SlotSearchForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    resource = forms.ModelChoiceField(queryset=Resource.objects.none(), required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_date_in_range])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True)
        self.fields["resource"].queryset = Resource.objects.all()


class SlotBookForm(forms.Form):
    """One row of the free-slot table, posted back: it only parses. The booking service decides
    whether the slot can be had (and whether notes may be kept). The caller is picked with the
    admin's autocomplete, through the gates; the view fetches a posted one through them."""

    service = forms.ModelChoiceField(queryset=Service.objects.none())
    resource = forms.ModelChoiceField(queryset=Resource.objects.none())
    starts_at = forms.CharField()
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    notes = forms.CharField(required=False, strip=False)

    def __init__(self, *args, contacts, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.all()
        self.fields["resource"].queryset = Resource.objects.all()
        picker = AutocompleteSelect(Appointment._meta.get_field("contact"), admin_site)
        self.fields["contact"] = forms.ModelChoiceField(queryset=contacts, required=False, widget=picker)

    def clean_starts_at(self) -> dt.datetime:
        try:
            starts_at = dt.datetime.fromisoformat(self.cleaned_data["starts_at"])
        except ValueError:
            raise forms.ValidationError("not a time") from None
        validate_date_in_range(starts_at)
        return starts_at


class BookView(GatedAdminView):
    """Find a free slot and book it for a caller: the desk's booking step. The caller picker offers,
    and the booking accepts, only the contacts the agent's gates show (a restricted contact needs
    the agent's individual grant); a posted contact outside them is a 404, as a missing one is."""

    roles = (Role.AGENT, Role.SUPERVISOR)

    def get(self, request):
        return self._page(request)

    def post(self, request):
        if "starts_at" not in request.POST:
            return self._page(request)
        picked = request.POST.get("contact")
        if picked:
            self.get_object(Contact, picked)  # outside the gate, malformed or missing: 404
        booking = SlotBookForm(request.POST, contacts=self.queryset(Contact), admin_site=self.admin_site)
        if not booking.is_valid():
            messages.error(request, "That slot is not valid any more; search again.")
            return self._page(request)
        try:
            appointment = appointment_book(**booking.cleaned_data, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return self._page(request)
        messages.success(request, f"Booked {appointment} on {_local(appointment.starts_at)}.")
        return HttpResponseRedirect(reverse("admin:scheduling_appointment_changelist"))

    def _page(self, request):
        form = SlotSearchForm(request.GET or None)
        slots = []
        if form.is_valid():
            start = dt.datetime.combine(form.cleaned_data["day"], dt.time(0), tzinfo=company_zone())
            try:
                slots = slots_find(
                    service=form.cleaned_data["service"],
                    resource=form.cleaned_data["resource"],
                    start=start,
                    end=start + dt.timedelta(days=1),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        # One picker per free slot, each its own form (the fields' names are what the POST parses).
        pickers = [
            SlotBookForm(contacts=self.queryset(Contact), admin_site=self.admin_site, auto_id=f"id_slot{n}_%s")
            for n in range(len(slots))
        ]
        context = {
            "title": "Book an appointment",
            "form": form,
            "slots": [
                (slot, slot.starts_at.astimezone(company_zone()), picker["contact"])
                for slot, picker in zip(slots, pickers, strict=True)
            ],
            "media": (pickers[0].media if pickers else forms.Media()),
            "notes_allowed": self.policy.can_write(Appointment, "notes"),
        }
        return self.render("admin/scheduling/book.html", context)


@admin.register(Appointment)
class AppointmentAdmin(GatedModelAdmin):
    list_display = ["__str__", "starts_at", "ends_at", "service", "resource", "status", "contact"]
    list_filter = ["status", ("resource", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["service", "resource"]
    date_hierarchy = "starts_at"
    fields = ["service", "resource", "starts_at", "ends_at", "status", "contact", "notes", "cancelled_reason"]
    readonly_fields = ["service", "resource", "starts_at", "ends_at", "status", "contact", "cancelled_reason"]

    def get_urls(self):
        book = self.admin_site.admin_view(BookView.as_view(self))
        return [path("book/", book, name="scheduling_appointment_book"), *super().get_urls()]
