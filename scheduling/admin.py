"""Scheduling in the provider's admin: configuration for supervisors, booking for agents."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format

from crm.models import Contact
from gates.admin import GatedInline, GatedModelAdmin
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
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True)
        self.fields["resource"].queryset = Resource.objects.all()


@admin.register(Appointment)
class AppointmentAdmin(GatedModelAdmin):
    list_display = ["__str__", "starts_at", "ends_at", "service", "resource", "status", "contact"]
    list_filter = ["status", ("resource", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["service", "resource"]
    date_hierarchy = "starts_at"
    fields = ["service", "resource", "starts_at", "ends_at", "status", "contact", "notes", "cancelled_reason"]
    readonly_fields = ["service", "resource", "starts_at", "ends_at", "status", "contact", "cancelled_reason"]

    def get_urls(self):
        return [
            path("book/", self.admin_site.admin_view(self.book_view), name="scheduling_appointment_book"),
            *super().get_urls(),
        ]

    def book_view(self, request):
        """Find a free slot and book it for a caller: the desk's booking step."""
        return self._in_company(request, self._book)

    def _book(self, request):
        policy = self.gate_policy(request)
        if policy.role not in (Role.AGENT, Role.SUPERVISOR):
            messages.error(request, "Only agents and supervisors book appointments.")
            return HttpResponseRedirect(reverse("admin:index"))
        if request.method == "POST" and "starts_at" in request.POST:
            try:
                service = Service.objects.get(pk=request.POST["service"])
                resource = Resource.objects.get(pk=request.POST["resource"])
                starts_at = dt.datetime.fromisoformat(request.POST["starts_at"])
                contact_id = request.POST.get("contact") or None
                contact = Contact.objects.filter(pk=contact_id).first() if contact_id else None
                appointment = appointment_book(
                    service=service,
                    resource=resource,
                    starts_at=starts_at,
                    contact=contact,
                    notes=request.POST.get("notes", ""),
                    actor=request.user,
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            except (Service.DoesNotExist, Resource.DoesNotExist, ValueError):
                messages.error(request, "That slot is not valid any more; search again.")
            else:
                messages.success(
                    request,
                    f"Booked {appointment} on {_local(appointment.starts_at)}.",
                )
                return HttpResponseRedirect(reverse("admin:scheduling_appointment_changelist"))
        form = SlotSearchForm(request.GET or None)
        slots = []
        if form.is_valid():
            zone = company_zone()
            day = form.cleaned_data["day"]
            start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
            try:
                slots = slots_find(
                    service=form.cleaned_data["service"],
                    resource=form.cleaned_data["resource"],
                    start=start,
                    end=start + dt.timedelta(days=1),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        shows_names = policy.can_read(Contact, "name")
        contacts = (
            [(c.pk, f"{c} · {c.name}" if shows_names else str(c)) for c in Contact.objects.all()[:200]]
            if form.is_valid()
            else []
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Book an appointment",
            "opts": self.model._meta,
            "form": form,
            "slots": [(slot, slot.starts_at.astimezone(company_zone())) for slot in slots],
            "contacts": contacts,
            "notes_allowed": policy.can_write(Appointment, "notes"),
        }
        return TemplateResponse(request, "admin/scheduling/book.html", context)
