"""The provider's admin site: a mandatory TOTP second factor (django-otp), and the switcher
between the client companies a staff member is assigned to."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from gates.admin_views import GatedAutocompleteJsonView
from gates.engine import policy_for_request
from gates.history import admin_log_recent
from gates.selection import company_select, selected_company
from tenants.selectors import client_list_for_user


class AdminSignInForm(OTPAdminAuthenticationForm):
    """Password and one-time code on one form: a person with a single confirmed device need not
    pick it from a list first."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class VastajaAdminSite(OTPAdminSite):
    login_form = AdminSignInForm
    site_header = "Vastaja · provider admin"
    site_title = "Vastaja admin"
    index_title = "Provider admin"

    def __init__(self, name="admin"):
        super().__init__(name)

    def get_urls(self):
        from answering.desk_views import DeskConsoleView, OfferView
        from staff.dpo import DpoWorkspaceView

        offer = self.admin_view(OfferView.as_view(self))
        return [
            path("switch/", self.admin_view(self.switch_view), name="switch_company"),
            path("desk/", self.admin_view(DeskConsoleView.as_view(self)), name="desk_console"),
            path("desk/offer/<slug:slug>/<int:queued>/", offer, name="desk_offer"),
            path("desk/offer/<slug:slug>/<int:queued>/accept/", offer, name="desk_offer_accept"),
            path("dpo/", self.admin_view(DpoWorkspaceView.as_view(self)), name="dpo_workspace"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        # Recent actions from the log of the company being worked for, never from another's.
        recent = admin_log_recent(user=request.user, company=selected_company(request))
        return super().index(request, {"recent_actions": recent, **(extra_context or {})})

    def login(self, request, extra_context=None):
        # The agents' landing page is their console: signing in to the admin's own index lands there.
        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and response.status_code == 302
            and response["Location"] == reverse("admin:index", current_app=self.name)
            and getattr(request.user, "provider_role", "") == "agent"
        ):
            return HttpResponseRedirect(reverse("admin:desk_console", current_app=self.name))
        return response

    def autocomplete_view(self, request):
        # Django's queries the public schema (a 500 for every tenant model); this one searches the
        # chosen company's data, through its gates.
        return GatedAutocompleteJsonView.as_view(admin_site=self)(request)

    def each_context(self, request):
        context = super().each_context(request)
        if request.user.is_authenticated and getattr(request.user, "is_provider_staff", False):
            company = context["admin_company"] = selected_company(request)
            # Why the person sees no personal field of this company (their commitment or training),
            # and what to do: shown on every admin page while they work for it.
            context["admin_training_gaps"] = policy_for_request(request, company).training_gaps if company else ()
        return context

    def switch_view(self, request):
        """List the companies this person may work for; POST one to work for it."""
        if not request.user.is_provider_staff:
            raise Http404
        companies = client_list_for_user(user=request.user).order_by("name")
        if request.method == "POST":
            slug = request.POST.get("company", "")
            company = companies.filter(schema_name=slug).first() if slug else None
            if slug and company is None:
                raise Http404  # not assigned, or not a company: the same answer
            company_select(request, company)
            if company is not None:
                messages.success(request, f"You are now working for {company.name}.")
            return HttpResponseRedirect(reverse("admin:index"))
        context = {
            **self.each_context(request),
            "title": "Choose a client company",
            "companies": companies,
        }
        return TemplateResponse(request, "admin/switch_company.html", context)
