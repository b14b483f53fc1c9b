"""manage.py generate_bhb --out DIR — SDSS spec files and ugriz cutouts of BHB and non-BHB A stars,
named after real plate-mjd-fiber from the Xue tables when they are available."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.ingest.generate import load_identifiers, write_bhb_files
from catalog.ingest.records import BadInput
from catalog.progress import Progress


class Command(BaseCommand):
    help = "Write a synthetic BHB / non-BHB sample (spec-*.fits, img-*.fits, truth.csv)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True)
        parser.add_argument("--n-bhb", type=int, default=200)
        parser.add_argument("--n-other", type=int, default=300)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--bhb-catalogue", default=None,
                            help="CSV with plate,mjd,fiber,ra,dec to name the BHBs (default: Xue 2011 in DOPPEL_SHARED_DATA)")
        parser.add_argument("--other-catalogue", default=None,
                            help="CSV naming the non-BHBs (default: Xue 2008 blue stragglers in DOPPEL_SHARED_DATA)")
        parser.add_argument("--synthetic-ids", action="store_true", help="do not use real plate-mjd-fiber")
        parser.add_argument("--image-layout", choices=["hdus", "cube"], default="hdus")
        parser.add_argument("--no-images", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, out, n_bhb, n_other, seed, bhb_catalogue, other_catalogue, synthetic_ids, image_layout,
               no_images, no_progress, **options):
        if n_bhb < 0 or n_other < 0 or n_bhb + n_other == 0:
            raise CommandError("--n-bhb and --n-other must be non-negative and not both zero", returncode=2)
        shared = Path(settings.SHARED_DATA)
        bhb_path = bhb_catalogue or shared / "xue2011_bhb" / "xue2011_bhb.csv"
        other_path = other_catalogue or shared / "xue2008_bs_mdanet" / "xue2008_bs_sdss.csv"
        bhb_ids = other_ids = None
        try:
            if not synthetic_ids and Path(bhb_path).exists() and Path(other_path).exists():
                bhb_ids = load_identifiers(bhb_path)
                other_ids = load_identifiers(other_path, exclude_column="in_xue2011_bhb")
            elif not synthetic_ids:
                self.stderr.write(f"Xue tables not found ({bhb_path}); naming stars with synthetic plates")
            progress = Progress(n_bhb + n_other, "BHB sample", "stars", enabled=not no_progress)
            files = write_bhb_files(out_dir=out, n_bhb=n_bhb, n_other=n_other, seed=seed, bhb_identifiers=bhb_ids,
                                    other_identifiers=other_ids, image_layout=image_layout,
                                    with_images=not no_images, on_star=progress.update)
            progress.close()
        except (BadInput, ValueError) as error:
            raise CommandError(str(error), returncode=2) from None
        source = "real Xue plate-mjd-fiber" if bhb_ids is not None else "synthetic ids"
        self.stdout.write(f"wrote {len(files)} files and truth.csv to {out} ({n_bhb} BHB + {n_other} other, {source})")
