"""The DPO's view of the client companies' evidence packs in the admin: the DPO alone lists and
downloads them; every other person, and every unknown pack or company, gets a 404."""

from __future__ import annotations

import io
import zipfile

import pytest
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from tenants.models import User

pytestmark = pytest.mark.django_db


def test_the_dpo_may_download_a_pack_and_provider_staff_may_not(produce_pack, admin_for, acme, acme_admin):
    with tenant_context(acme):
        pack, _files = produce_pack(acme_admin)
    url = f"/admin/dpo/evidence/acme/{pack.pk}/download/"
    for username in ("agent1", "supervisor", "provider-admin"):
        staff = admin_for(User.objects.get(username=username))
        assert staff.get("/admin/dpo/evidence/").status_code == 404
        assert staff.post(url).status_code == 404
    dpo = admin_for(User.objects.get(username="dpo"))
    listing = dpo.get("/admin/dpo/evidence/")
    assert listing.status_code == 200
    assert f"#{pack.pk}" in listing.content.decode()
    download = dpo.post(url)
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(download.content)).read("manifest.json")
    assert dpo.post(f"/admin/dpo/evidence/globex/{pack.pk}/download/").status_code == 404
    with tenant_context(acme):
        assert AccessLogEntry.objects.filter(object_type="audit.EvidencePack", channel="admin").count() == 1


def test_a_download_is_a_post_and_an_unknown_pack_or_company_is_404(produce_pack, admin_for, acme, acme_admin):
    with tenant_context(acme):
        pack, _files = produce_pack(acme_admin)
    dpo = admin_for(User.objects.get(username="dpo"))
    assert dpo.get(f"/admin/dpo/evidence/acme/{pack.pk}/download/").status_code == 405
    assert dpo.post(f"/admin/dpo/evidence/acme/{pack.pk + 1000}/download/").status_code == 404
    for slug in ("nosuch", "public", "tenant_template"):
        assert dpo.post(f"/admin/dpo/evidence/{slug}/{pack.pk}/download/").status_code == 404, slug
    with tenant_context(acme):
        entries = AccessLogEntry.objects.filter(object_type="audit.EvidencePack", channel="admin")
        assert not entries.filter(refused=False).exists()  # nothing was served
        # The unknown pack of acme is a refusal in acme's log, as any admin object outside the gate.
        assert list(entries.values_list("object_ids", flat=True)) == [[str(pack.pk + 1000)]]
