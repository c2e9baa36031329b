"""The contacts screen: search (through the blind indexes), a contact with its consent history,
and editing (client admins; members read)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.models import Contact
from crm.portal.forms import ContactForm, ContactSearchForm
from crm.selectors import consent_history, contact_list, contact_search, contact_search_kind
from crm.services import EDITABLE, contact_create, contact_editable_check, contact_update
from gates.portal import client_admin_page, client_page, is_client_admin
from gates.signals import report_refused
from tenants.errors import ApplicationError
from tenants.timezones import in_company_zone

PAGE_SIZE = 25


@client_page
@in_company_zone
def contacts_list(request):
    form = ContactSearchForm(request.GET or None)
    contacts = contact_list()
    if form.is_valid() and form.cleaned_data["q"]:
        try:
            contacts = contact_search(query=form.cleaned_data["q"])
        except ApplicationError as exc:
            form.add_error("q", exc.message)
            contacts = Contact.objects.none()
    page = Paginator(contacts.defer("address", "notes", "health_notes"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": form.cleaned_data.get("q", "") if form.is_valid() else "",
        # The results say what the query was matched against: a whole name, a number or an address.
        "matched": contact_search_kind(query=form.cleaned_data["q"]) if form.is_valid() else "",
        "can_edit": is_client_admin(request),
    }
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    template = "crm/portal/contacts_results.html" if partial else "crm/portal/contacts.html"
    return render(request, template, context)


@client_page
@in_company_zone
def contact_detail(request, pk: int):
    contact = _contact_or_404(request, pk)
    consents = list(consent_history(contact=contact))
    return render(
        request,
        "crm/portal/contact_detail.html",
        {"contact": contact, "consents": consents, "can_edit": is_client_admin(request)},
    )


@client_admin_page
@in_company_zone
def contact_edit(request, pk: int):
    contact = _contact_or_404(request, pk)
    try:
        contact_editable_check(contact=contact)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal-contact-detail", pk=contact.pk)
    initial = {name: getattr(contact, name) for name in EDITABLE}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(
                contact=contact, actor=request.user, **{name: form.cleaned_data[name] for name in form.changed_data}
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("portal-contact-detail", pk=contact.pk)
    return render(request, "crm/portal/contact_form.html", {"form": form, "contact": contact})


@client_admin_page
@in_company_zone
def contact_new(request):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = contact_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Contact created."))
            return redirect("portal-contact-detail", pk=contact.pk)
    return render(request, "crm/portal/contact_form.html", {"form": form, "contact": None})


def _contact_or_404(request, pk: int) -> Contact:
    contact = Contact.objects.filter(pk=pk).first()
    if contact is None:
        report_refused(user=request.user, channel="portal", model=Contact, object_id=pk, path=request.path)
        raise Http404
    return contact


def _form_error(form, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
