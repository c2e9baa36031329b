"""A client company's team: its client users (memberships), invited by e-mail, given a role, removed.

Invitations create the user with an unusable password and send a link to Django's password-reset
confirmation page (`password_reset_confirm`), built with its token generator: the link works once,
until the password is set, and expires with PASSWORD_RESET_TIMEOUT. A company always keeps at least
one client admin, and nobody removes or demotes themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, Membership, User

ROLES = Membership.Role.values


def team_list(*, company: ClientCompany) -> QuerySet[Membership]:
    """The company's client users, admins first."""
    return Membership.objects.filter(company=company).select_related("user").order_by("role", "user__username")


def team_member_get(*, company: ClientCompany, membership_id: int) -> Membership:
    """One membership of this company; another company's is as missing as one that never existed."""
    membership = team_list(company=company).filter(pk=membership_id).first()
    if membership is None:
        raise Membership.DoesNotExist
    return membership


def _require_admin(*, company: ClientCompany, actor: User) -> None:
    if not Membership.objects.filter(company=company, user=actor, role=Membership.Role.CLIENT_ADMIN).exists():
        raise ApplicationError(
            _("Only a client admin of this company may change its team."), field="actor", code="forbidden"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ApplicationError(
            _("“%(role)s” is not a role: choose %(roles)s.") % {"role": role, "roles": ", ".join(ROLES)}, field="role"
        )


def password_set_link(*, user: User, site_url: str) -> str:
    """The one-time link to Django's password-reset confirmation page on the company's host."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    return site_url.rstrip("/") + path


def member_invite(
    *,
    company: ClientCompany,
    email: str,
    role: str,
    actor: User,
    site_url: str,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Add a person to the company's team by e-mail address.

    A new address gets a user with an unusable password and an e-mail with a link to set one. An
    address that already belongs to a client user (of another company) gets a membership here and
    a notice; provider staff cannot be client users.
    """
    _require_admin(company=company, actor=actor)
    _check_role(role)
    address = (email or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ApplicationError(
            _("“%(address)s” is not an e-mail address.") % {"address": address}, field="email"
        ) from None
    if len(address) > 150:
        raise ApplicationError(_("Use an e-mail address of at most 150 characters."), field="email")
    for name, value, limit in (("first_name", first_name, 150), ("last_name", last_name, 150)):
        if len(value or "") > limit:
            raise ApplicationError(_("At most %(limit)s characters.") % {"limit": limit}, field=name)
    username = address.lower()
    with transaction.atomic(), change_log_actor(actor):
        user = User.objects.filter(username__iexact=username).first() or (
            User.objects.filter(email__iexact=address).order_by("pk").first()
        )
        if user is not None and user.is_provider_staff:
            raise ApplicationError(
                _("This address belongs to the provider's staff, who cannot be client users."),
                field="email",
                code="provider_staff",
            )
        if user is not None and Membership.objects.filter(company=company, user=user).exists():
            raise ApplicationError(
                _("%(address)s is already in the team.") % {"address": address}, field="email", code="already_member"
            )
        created = user is None
        if created:
            user = User(
                username=username,
                email=address,
                first_name=(first_name or "").strip(),
                last_name=(last_name or "").strip(),
            )
            user.set_unusable_password()
            try:
                user.full_clean(exclude=["password"])
            except ValidationError as exc:
                field, problems = next(iter(exc.message_dict.items()))
                raise ApplicationError(
                    f"{address}: {' '.join(problems)}", field="email" if field == "username" else field
                ) from None
            user.save()
        membership = Membership(company=company, user=user, role=role)
        membership.full_clean()
        membership.save()
        needs_password = not user.has_usable_password()
        link = password_set_link(user=user, site_url=site_url) if needs_password else site_url.rstrip("/") + "/"
        subject = _("You are invited to %(company)s on Vastaja") % {"company": company.name}
        if needs_password:
            body = _(
                "%(inviter)s has added you to the portal of %(company)s.\n\n"
                "Choose your password here (the link works once, for a limited time):\n%(link)s\n\n"
                "Your user name is %(username)s."
            ) % {
                "inviter": actor.get_full_name() or actor.username,
                "company": company.name,
                "link": link,
                "username": user.username,
            }
        else:
            body = _(
                "%(inviter)s has added you to the portal of %(company)s.\n\n"
                "Sign in with your existing user name, %(username)s, at:\n%(link)s"
            ) % {
                "inviter": actor.get_full_name() or actor.username,
                "company": company.name,
                "link": link,
                "username": user.username,
            }
        recipient = user.email or address
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient]))
    return membership


def _admins_locked(company: ClientCompany) -> list[Membership]:
    # Lock the company's memberships, so that two admins cannot each remove the other at once.
    return list(Membership.objects.select_for_update().filter(company=company, role=Membership.Role.CLIENT_ADMIN))


def member_role_set(*, membership: Membership, role: str, actor: User) -> Membership:
    """Make a member an admin or an admin a member; the last admin stays one."""
    company = membership.company
    _check_role(role)
    if membership.user_id == actor.pk:
        raise ApplicationError(
            _("You cannot change your own role; ask another client admin."), field="role", code="self"
        )
    with transaction.atomic(), change_log_actor(actor):
        admins = _admins_locked(company)
        _require_admin(company=company, actor=actor)  # again, under the lock: an admin may just have left
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if membership.role == Membership.Role.CLIENT_ADMIN and len(admins) <= 1:
            raise ApplicationError(
                _("The company must keep at least one client admin."), field="role", code="last_admin"
            )
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
    return membership


def member_remove(*, membership: Membership, actor: User) -> None:
    """Take a person out of the company's team. Their user stays (the audit trail names it), but
    they can no longer enter this company."""
    company = membership.company
    if membership.user_id == actor.pk:
        raise ApplicationError(
            _("You cannot remove yourself; ask another client admin."), field="membership", code="self"
        )
    with transaction.atomic(), change_log_actor(actor):
        admins = _admins_locked(company)
        _require_admin(company=company, actor=actor)  # again, under the lock: an admin may just have left
        membership = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if membership is None:
            return
        if membership.role == Membership.Role.CLIENT_ADMIN and len(admins) <= 1:
            raise ApplicationError(
                _("The company must keep at least one client admin."), field="membership", code="last_admin"
            )
        membership.delete()
