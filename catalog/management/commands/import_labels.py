"""manage.py import_labels PATH --mapping PRESET|FILE — import a label catalogue.

Presets: xue2011 (BHB, by plate-mjd-fiber), xue2008_bs (non-BHB blue stragglers), grid (the
labels.csv of generate_grid), bhb_truth (the truth.csv of generate_bhb). A mapping file (YAML or
JSON) describes any other catalogue; see catalog/ingest/labels.py.
"""
from django.core.management.base import BaseCommand, CommandError

from catalog import services
from catalog.ingest.labels import PRESETS, load_mapping
from catalog.ingest.records import BadInput


class Command(BaseCommand):
    help = "Import a label catalogue (CSV, FITS table, or CDS table with its ReadMe) into Labels/BHBLabel."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--mapping", required=True, help=f"a preset ({', '.join(PRESETS)}) or a YAML/JSON file")
        parser.add_argument("--format", default=None, choices=["auto", "csv", "fits", "cds"])
        parser.add_argument("--readme", default=None, help="the ReadMe of a CDS table (default: ReadMe* beside it)")
        parser.add_argument("--create-stars", action="store_true",
                            help="create stars that are not in the catalog yet (needs RA/Dec columns)")

    def handle(self, *args, path, mapping, format, readme, create_stars, **options):
        try:
            catalogue_mapping = load_mapping(mapping)
            if format:
                catalogue_mapping.format = format
            if readme:
                catalogue_mapping.readme = readme
            report = services.labels_import(path=path, mapping=catalogue_mapping, create_missing_stars=create_stars)
        except BadInput as error:
            raise CommandError(f"{path}: {error}", returncode=2) from None
        self.stdout.write(
            f"{path}: {report.n_rows} rows; {report.n_labels} labels and {report.n_bhb_labels} BHB labels written; "
            f"{report.n_unmatched} rows matched no star in the catalog"
            + (f"; {report.n_stars_created} stars created" if report.n_stars_created else "")
        )
