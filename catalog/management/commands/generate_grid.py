"""manage.py generate_grid — a seed-like grid of synthetic spectra (N chemical profiles, each on a
Teff × logg (× [Fe/H] × [α/Fe]) grid), written as survey files or loaded straight into the
database with COPY."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog import services
from catalog.ingest.generate import GRID_FILE_FORMATS, write_grid_files
from catalog.ingest.records import BadInput
from catalog.progress import Progress
from ml.synth.gridbuilder import APOGEE_LIKE, RVS_LIKE, GridSpec, iter_grid


def _range(text: str) -> tuple[float, float, float]:
    parts = [float(p) for p in text.split(":")]
    if len(parts) != 3:
        raise ValueError("use START:STOP:STEP")
    return tuple(parts)


class Command(BaseCommand):
    help = "Generate a grid of synthetic spectra: --out DIR writes survey files, --load loads with COPY."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=["apogee", "rvs"], default="apogee",
                            help="apogee: Teff×logg on the 7214-px grid; rvs: Teff×logg×[Fe/H]×[α/Fe] on Gaia RVS")
        parser.add_argument("--profiles", type=int, default=None, help="chemical profiles (default 200)")
        parser.add_argument("--snr", type=float, default=0.0, help="S/N per pixel; 0 = noiseless")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--peculiar", type=int, default=0,
                            help="stars given one element (Mn, V, Co or Ce) +0.3 to +1.0 dex; their designations end in P")
        parser.add_argument("--teff", type=_range, default=None, help="START:STOP:STEP in K")
        parser.add_argument("--logg", type=_range, default=None, help="START:STOP:STEP in dex")
        parser.add_argument("--model", default="analytic", help="'analytic' or a Payne emulator .npz path")
        parser.add_argument("--labels", default=None, help="comma-separated label names of the emulator")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--out", help="directory for the files (+ labels.csv)")
        target.add_argument("--load", action="store_true", help="load into the database (binary COPY)")
        parser.add_argument("--file-format", default=None,
                            help=f"apogee: {'/'.join(GRID_FILE_FORMATS['apogee'])}; rvs: {'/'.join(GRID_FILE_FORMATS['gaia_rvs'])}")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, kind, profiles, snr, seed, peculiar, teff, logg, model, labels, out, load, file_format,
               no_progress, **opts):
        base = APOGEE_LIKE if kind == "apogee" else RVS_LIKE
        try:
            spec = GridSpec(band=base.band, n_profiles=base.n_profiles if profiles is None else profiles, teff=teff or base.teff,
                            logg=logg or base.logg, fe_h=base.fe_h, alpha_fe=base.alpha_fe,
                            snr=snr if snr > 0 else None, seed=seed, peculiar=peculiar)
            spectrum_model = self._model(model, base.band, labels)
        except (ValueError, OSError) as error:
            raise CommandError(str(error), returncode=2) from None
        progress = Progress(len(spec), f"{kind} grid", "spectra", enabled=not no_progress)
        try:
            if load:
                count = services.grid_load(batches=iter_grid(spec, spectrum_model), survey_code=base.band,
                                           source_file=f"generate_grid seed={seed}", on_batch=progress.update,
                                           streams=settings.INGEST_STREAMS)
                message = f"loaded {count} spectra into the database"
            else:
                files = write_grid_files(spec=spec, model=spectrum_model, out_dir=out, file_format=file_format,
                                         on_batch=progress.update)
                message = f"wrote {len(files)} files and labels.csv to {out}"
        except (BadInput, ValueError) as error:
            raise CommandError(str(error), returncode=2) from None
        finally:
            progress.close()
        rate = len(spec) / max(progress.elapsed, 1e-9)
        self.stdout.write(f"{message} ({len(spec)} spectra, {spec.n_profiles} profiles, {progress.elapsed:.1f} s, {rate:.0f} spectra/s)")

    @staticmethod
    def _model(model: str, band: str, labels: str | None):
        if model == "analytic":
            from ml.synth.stellar import StellarSpectrumModel

            return StellarSpectrumModel(band)
        from ml.synth.payne import PayneEmulator

        return PayneEmulator(model, label_names=labels.split(",") if labels else None, band=band)
