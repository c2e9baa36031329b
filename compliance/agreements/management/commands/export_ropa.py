import json
from pathlib import Path

from django.core.management.base import BaseCommand

from compliance.agreements.ropa import ropa_records
from gates.exports import CsvWriter


class Command(BaseCommand):
    help = (
        "Write the processor's record of processing (GDPR Art. 30(2)) as ropa.json and ropa.csv, with the "
        "sub-processors actually used in the last 365 days next to those authorised."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", default=".", help="the folder to write into (default: here)")

    def handle(self, *args, out: str, **options):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        records = ropa_records()
        (folder / "ropa.json").write_text(json.dumps(records, indent=2, ensure_ascii=False))
        with open(folder / "ropa.csv", "w", newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(
                [
                    "controller",
                    "agreement",
                    "categories of processing",
                    "data categories",
                    "sub-processors",
                    "sub-processors used (sends, refused)",
                    "transfers outside the EEA",
                    "security measures",
                    "erasure at the end of the service",
                ]
            )
            for r in records:
                if r["agreement"] is None:
                    writer.writerow([r["controller"], "no agreement", "", "", "", "", "", "", ""])
                    continue
                writer.writerow(
                    [
                        r["controller"],
                        r["agreement"],
                        r["categories_of_processing"],
                        "; ".join(c["category"] for c in r["data_categories"]),
                        "; ".join(f"{s['name']} ({s['purpose']}, {s['location']})" for s in r["sub_processors"]),
                        "; ".join(
                            f"{', '.join(u['sub_processors']) or u['label']} by {u['integration']}: "
                            f"{u['sends']} sent, {u['refused']} refused"
                            for u in r["sub_processors_used"]
                        )
                        or "none",
                        "; ".join(r["transfers_outside_eea"]) or "none",
                        r["security_measures"],
                        r["end_of_service_erasure"],
                    ]
                )
        self.stdout.write(f"Wrote {len(records)} records to {folder / 'ropa.json'} and {folder / 'ropa.csv'}")
