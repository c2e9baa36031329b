"""The portal's sign-in pages beyond the password: the one-time code, setting up a device, and
password reset by e-mail; and the client admins' Security page, where the code is required."""

from __future__ import annotations

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import verify_token

from gates.portal import client_admin_page
from portal.forms import OneTimeCodeForm, SecurityForm, TenantPasswordResetForm
from portal.selectors import company_requires_totp, team_second_factors, totp_device_confirmed
from portal.services import company_security_update, totp_device_confirm, totp_device_start


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return "/"
    return target


def second_factor(request):
    """Second step of signing in: the code from the person's authenticator app."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    next_url = _next_url(request)
    if request.user.is_verified():
        return HttpResponseRedirect(next_url)
    device = totp_device_confirmed(user=request.user)
    if device is None:
        return HttpResponseRedirect(f"{reverse('second-factor-setup')}?{urlencode({'next': next_url})}")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _reason = device.verify_is_allowed()
        verified = verify_token(request.user, device.persistent_id, form.cleaned_data["otp_token"]) if allowed else None
        if verified is not None:
            otp_login(request, verified)
            return HttpResponseRedirect(next_url)
        if not allowed:
            form.add_error("otp_token", _("Too many wrong codes. Wait a little, then try the code your app shows."))
        else:
            form.add_error(
                "otp_token", _("That code is not right, or it has expired. Try the code your app shows now.")
            )
    return render(request, "portal/second_factor.html", {"form": form, "next": next_url})


def second_factor_setup(request):
    """Set up an authenticator app: the secret as text and as an otpauth:// link, then one code
    to prove the app has it. Only for a person with no device yet."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    next_url = _next_url(request)
    if totp_device_confirmed(user=request.user) is not None:
        if request.user.is_verified():
            messages.info(request, _("You have set up a second factor already."))
            return HttpResponseRedirect(next_url)
        return HttpResponseRedirect(f"{reverse('second-factor')}?{urlencode({'next': next_url})}")
    device = totp_device_start(user=request.user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _reason = device.verify_is_allowed()
        if allowed and totp_device_confirm(device=device, token=form.cleaned_data["otp_token"]):
            otp_login(request, device)
            messages.success(request, _("Your second factor is set up. You will be asked for a code at each sign-in."))
            return HttpResponseRedirect(next_url)
        if not allowed:
            form.add_error("otp_token", _("Too many wrong codes. Wait a little, then try the code your app shows."))
        else:
            form.add_error(
                "otp_token", _("That code is not right. Check that the app shows this account, then try again.")
            )
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": next_url,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "secret": secret,
        "otpauth_uri": device.config_url,
    }
    return render(request, "portal/second_factor_setup.html", context)


@client_admin_page
def security(request):
    """Client admins: require a one-time code of everyone signing in to this company's portal."""
    company = request.tenant
    form = SecurityForm(request.POST or None, initial={"require_totp": company_requires_totp(company=company)})
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["require_totp"]
        company_security_update(company=company, require_totp=required, actor=request.user)
        if required:
            messages.success(request, _("Everyone signing in now needs a one-time code."))
        else:
            messages.success(request, _("A one-time code is no longer required (people who set one up still use it)."))
        return HttpResponseRedirect(reverse("portal-security"))
    context = {"form": form, "team": team_second_factors(company=company), "company": company}
    return render(request, "portal/security.html", context)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/password_reset_email.txt"
    subject_template_name = "portal/password_reset_subject.txt"
    form_class = TenantPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "company": self.request.tenant}

    def form_valid(self, form):
        self.extra_email_context = {"company_name": self.request.tenant.name}
        self.use_https = self.request.is_secure()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link works on the host of the company it was sent for, and for its client users only."""

    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or user.is_provider_staff or not user.memberships.filter(company=self.request.tenant).exists():
            return None
        return user


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
