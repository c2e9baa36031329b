"""Print, from the database's catalogue, what a move to Citus schema-based sharding must know:
the public tables and which of them tenant tables reference (reference tables), every foreign key
from a tenant table to a public one, every sequence and its width, and the checks Citus needs.
docs/scaling.md pastes its output."""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.citus import PUBLIC, foreign_keys, keys_into_other_tenant_schemas, narrow_keys, sequences, tables
from tenants.models import ClientCompany


class Command(BaseCommand):
    help = "Print the Citus inventory (tables, cross-schema keys, sequences) of the template and public schemas."

    def add_arguments(self, parser):
        parser.add_argument("--schema", default=settings.TENANT_BASE_SCHEMA, help="the tenant schema to describe")

    def handle(self, *args, schema: str, **options):
        out = self.stdout.write
        tenant_tables = tables(schema)
        public_tables = tables(PUBLIC)
        if not tenant_tables or "tenants_clientcompany" not in public_tables:
            raise CommandError(f"schema {schema} or public is not migrated: run migrate_schemas first")
        to_public = [fk for fk in foreign_keys(schema) if fk[2] == PUBLIC]
        referenced = sorted({fk[3] for fk in to_public})
        # A reference table may reference only reference tables: close the set over public's own keys.
        public_keys = foreign_keys(PUBLIC)
        closure = set(referenced)
        while True:
            more = {fk[3] for fk in public_keys if fk[0] in closure and fk[3] not in closure}
            if not more:
                break
            closure |= more
        out(f"## Distributed schemas: one per company, like {schema} ({len(tenant_tables)} tables)")
        out(", ".join(tenant_tables))
        out("")
        out(f"## Public schema: {len(public_tables)} tables")
        out(f"Referenced by tenant tables ({len(referenced)}): {', '.join(referenced)}")
        also = sorted(closure - set(referenced))
        out(f"Referenced by those, so reference tables too ({len(also)}): {', '.join(also)}")
        local = [name for name in public_tables if name not in closure]
        out(f"Coordinator-local tables ({len(local)}): {', '.join(local)}")
        out("")
        out(f"## Foreign keys from {schema} to public ({len(to_public)})")
        out("| tenant table | referenced public table | on delete |")
        out("|---|---|---|")
        for table, _name, _rschema, rtable, on_delete in to_public:
            out(f"| {table} | {rtable} | {on_delete} |")
        out("")
        for label, target in ((f"{schema} (template)", schema), ("public", PUBLIC)):
            seqs = sequences(target)
            widths = Counter(kind for _name, kind, _max, _owner in seqs)
            out(f"## Sequences in {label}: {len(seqs)}, by type: {dict(sorted(widths.items()))}")
            for name, kind, _max, owner in seqs:
                if kind != "bigint":
                    out(f"- {name} {kind} (owned by {owner or 'nothing'})")
        out("")
        companies = list(
            ClientCompany.objects.exclude(schema_name__in=[PUBLIC, schema]).values_list("schema_name", flat=True)
        )
        out(f"## Checks over {schema} and {len(companies)} company schemas")
        narrow = crossing = 0
        for index, target in enumerate([schema, *companies], start=1):
            narrow += len(narrow_keys(target))
            crossing += len(keys_into_other_tenant_schemas(target))
            if index % 100 == 0:
                self.stderr.write(f"  checked {index} schemas")
        out(f"- keys or sequences narrower than bigint: {narrow}")
        out(f"- foreign keys between tenant schemas: {crossing}")
