"""The appointments screen: a week calendar (days as columns, htmx to move between weeks),
booking, cancelling and rescheduling through the booking services, which refuse a taken slot or
one outside the resource's hours. Client admins book; members read."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.blind_index import phone_normalise
from crm.models import Contact
from crm.selectors import contact_find_by_phone
from gates.portal import client_admin_page, client_page, is_client_admin
from gates.signals import report_refused
from scheduling.models import Appointment, Resource
from scheduling.portal.forms import BookingForm, CancelForm, FreeTimesForm, RescheduleForm
from scheduling.selectors import appointment_list, company_zone, slots_find, week_bounds
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from tenants.errors import ApplicationError
from tenants.inputs import date_in_range
from tenants.timezones import in_company_zone

# A service error names a service argument; the form names its own fields.
FORM_FIELD = {"starts_at": "time", "service": "service", "resource": "resource", "notes": "notes"}


@client_page
@in_company_zone
def appointments_week(request):
    booking = BookingForm(initial={"date": timezone.localdate() + dt.timedelta(days=1)})
    return _week_page(request, booking=booking)


@client_admin_page
@in_company_zone
def appointment_book_view(request):
    form = BookingForm(request.POST or None)
    if request.method != "POST":
        return redirect("portal-appointments")
    if form.is_valid():
        contact = None
        if form.cleaned_data["contact_phone"]:
            contact = _contact_by_phone(form)
        if not form.errors:
            try:
                appointment = appointment_book(
                    service=form.cleaned_data["service"],
                    resource=form.cleaned_data["resource"],
                    starts_at=form.starts_at(),
                    contact=contact,
                    notes=form.cleaned_data["notes"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(FORM_FIELD.get(exc.field), exc.message)
            else:
                local = timezone.localtime(appointment.starts_at)
                messages.success(
                    request,
                    _("Booked: %(service)s with %(resource)s, %(when)s.")
                    % {
                        "service": appointment.service.name,
                        "resource": appointment.resource.label,
                        "when": date_format(local, "SHORT_DATETIME_FORMAT"),
                    },
                )
                return redirect(f"{reverse('portal-appointments')}?week={local.date().isoformat()}")
    week = form.cleaned_data.get("date") if form.is_bound and "date" in form.cleaned_data else None
    return _week_page(request, booking=form, day=week)


@client_page
@in_company_zone
def free_times(request):
    """The free start times of a service with a resource on a day: the booking form's suggestions."""
    form = FreeTimesForm(request.GET or None)
    slots, error = [], ""
    if form.is_valid() and form.cleaned_data["date"] < timezone.localdate():
        # Say so, rather than list no time at all: nobody can book a day that is over.
        error = _("%(day)s has passed: choose today or a later day.") % {
            "day": date_format(form.cleaned_data["date"], "SHORT_DATE_FORMAT")
        }
    elif form.is_valid():
        start = dt.datetime.combine(form.cleaned_data["date"], dt.time(0), tzinfo=company_zone())
        try:
            slots = slots_find(
                service=form.cleaned_data["service"],
                resource=form.cleaned_data["resource"],
                start=start,
                end=start + dt.timedelta(days=1),
            )
        except ApplicationError as exc:
            error = exc.message
    elif form.is_bound:
        error = _("Choose a service, who it is with, and a date.")
    times = [timezone.localtime(slot.starts_at) for slot in slots]
    return render(request, "scheduling/portal/free_times.html", {"times": times, "error": error, "form": form})


@client_page
@in_company_zone
def appointment_detail(request, pk: int):
    appointment = _appointment_or_404(request, pk)
    return _detail_page(request, appointment)


@client_admin_page
@in_company_zone
def appointment_cancel_view(request, pk: int):
    appointment = _appointment_or_404(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appointment_cancel(appointment=appointment, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The appointment is cancelled."))
            local = timezone.localtime(appointment.starts_at)
            return redirect(f"{reverse('portal-appointments')}?week={local.date().isoformat()}")
    return _detail_page(request, appointment, cancel=form)


@client_admin_page
@in_company_zone
def appointment_reschedule_view(request, pk: int):
    appointment = _appointment_or_404(request, pk)
    form = RescheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appointment_reschedule(appointment=appointment, starts_at=form.starts_at(), actor=request.user)
        except ApplicationError as exc:
            form.add_error(FORM_FIELD.get(exc.field), exc.message)
        else:
            messages.success(request, _("The appointment is moved."))
            return redirect("portal-appointment-detail", pk=appointment.pk)
    return _detail_page(request, appointment, reschedule=form)


# ---- helpers ----------------------------------------------------------------------------------


def _week_page(request, *, booking: BookingForm, day: dt.date | None = None):
    if day is None:
        try:
            day = dt.date.fromisoformat(request.GET.get("week", "")) if request.GET.get("week") else None
        except ValueError:
            day = None  # a mistyped week shows this week rather than an error page
        if day is not None and not date_in_range(day):
            day = None  # so does one out of range (its previous and next weeks could not be computed)
    day = day or timezone.localdate()
    monday, start, end = week_bounds(day)
    resource = None
    if request.GET.get("resource", "").isdigit():
        resource = Resource.objects.filter(pk=int(request.GET["resource"])).first()
    appointments = list(appointment_list(start=start, end=end, resource=resource, statuses=Appointment.LIVE))
    by_day: dict[dt.date, list[Appointment]] = {}
    for appointment in appointments:
        by_day.setdefault(timezone.localtime(appointment.starts_at).date(), []).append(appointment)
    today = timezone.localdate()
    days = [
        {"date": date, "today": date == today, "appointments": by_day.get(date, [])}
        for date in (monday + dt.timedelta(days=offset) for offset in range(7))
    ]
    context = {
        "days": days,
        "monday": monday,
        "sunday": monday + dt.timedelta(days=6),
        "previous_week": (monday - dt.timedelta(days=7)).isoformat(),
        "next_week": (monday + dt.timedelta(days=7)).isoformat(),
        "this_week": week_bounds(timezone.localdate())[0].isoformat(),
        "resources": Resource.objects.order_by("label"),
        "resource": resource,
        "booking": booking,
        "can_book": is_client_admin(request),
        "zone": company_zone(),
    }
    # htmx swaps just the calendar; restoring history after a cache miss needs the whole page.
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        return render(request, "scheduling/portal/week.html", context)
    return render(request, "scheduling/portal/appointments.html", context)


def _detail_page(request, appointment, *, cancel=None, reschedule=None):
    local = timezone.localtime(appointment.starts_at)
    context = {
        "appointment": appointment,
        "can_change": is_client_admin(request) and appointment.status in Appointment.LIVE,
        "cancel": cancel or CancelForm(),
        "reschedule": reschedule or RescheduleForm(initial={"date": local.date(), "time": local.time()}),
        "week": local.date().isoformat(),
        # A refusal on a booking no longer open to changes is still said, above the details.
        "forms_with_errors": [form for form in (cancel, reschedule) if form is not None and form.errors],
    }
    return render(request, "scheduling/portal/appointment_detail.html", context)


def _contact_by_phone(form) -> Contact | None:
    try:
        number = phone_normalise(form.cleaned_data["contact_phone"], field="contact_phone")
    except ApplicationError as exc:
        form.add_error("contact_phone", exc.message)
        return None
    contact = contact_find_by_phone(number=number)
    if contact is None:
        form.add_error("contact_phone", _("No contact has this number. Add them under Contacts first."))
    return contact


def _appointment_or_404(request, pk: int) -> Appointment:
    appointment = appointment_list().filter(pk=pk).first()
    if appointment is None:
        report_refused(user=request.user, channel="portal", model=Appointment, object_id=pk, path=request.path)
        raise Http404
    return appointment
