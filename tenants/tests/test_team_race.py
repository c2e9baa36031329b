"""Two client admins removing each other at the same moment: the lock on the company's admins lets
one removal through and refuses the other, so the company always keeps an admin. Runs on committed
rows (`live_db`), with each thread on its own connection, and cleans up after itself."""

from __future__ import annotations

import threading

from django.db import close_old_connections, connection, connections

from tenants.errors import ApplicationError
from tenants.models import ClientCompany, Membership, User
from tenants.team import member_remove
from tests.cleanup import users_delete


def _admin(company, username: str) -> Membership:
    user = User.objects.create(username=username, email=f"{username}@example.ee")
    return Membership.objects.create(user=user, company=company, role=Membership.Role.CLIENT_ADMIN)


def test_two_admins_removing_each_other_at_once_leave_one(live_db):
    """Both removals start while both are admins; the lock lets one through and refuses the other."""
    connection.set_schema_to_public()
    company = ClientCompany.objects.get(schema_name="initech")
    first, second = (_admin(company, f"initech-racer-{n}") for n in (1, 2))
    original_admin = Membership.objects.get(company=company, user__username="initech-admin")
    Membership.objects.filter(pk=original_admin.pk).update(role=Membership.Role.CLIENT_MEMBER)
    barrier = threading.Barrier(2)
    outcomes = []

    def remove(actor, target):
        try:
            barrier.wait(timeout=10)
            member_remove(membership=Membership.objects.get(pk=target.pk), actor=actor.user)
            outcomes.append("removed")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()
            connection.close()

    try:
        threads = [threading.Thread(target=remove, args=pair) for pair in ((first, second), (second, first))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["forbidden", "removed"]
        assert Membership.objects.filter(company=company, role=Membership.Role.CLIENT_ADMIN).count() == 1
    finally:
        Membership.objects.filter(pk=original_admin.pk).update(role=Membership.Role.CLIENT_ADMIN)
        users_delete("initech-racer-1", "initech-racer-2", membership_ids=[first.pk, second.pk])
        connections.close_all()  # so that the test database can be dropped at the end of the session
