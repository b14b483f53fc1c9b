"""manage.py ingest PATH... — ingest survey files (SDSS spec, APOGEE apStar/aspcapStar, Gaia RVS
tables, ugriz cutouts). Files, directories and globs; the format is detected unless --format.

Exit status: 0 when nothing failed, 1 when some files failed, 2 when nothing was found or every
file failed.
"""
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog import services
from catalog.ingest.detect import READERS
from catalog.progress import Progress


class Command(BaseCommand):
    help = "Ingest survey files: files, directories or globs. Bad files are reported and skipped."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files, directories or globs ('data/**/*.fits')")
        parser.add_argument("--format", default="auto", choices=["auto", *READERS],
                            help="the file format (default: detect from name and content)")
        parser.add_argument("--jobs", type=int, default=settings.INGEST_JOBS,
                            help=f"reader processes parsing files ahead of the one that stores them "
                                 f"(default {settings.INGEST_JOBS}, DOPPEL_INGEST_JOBS; 1 reads here)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, paths, format, jobs, no_progress, verbosity, **options):
        if jobs < 1:
            raise CommandError(f"--jobs must be 1 or more, not {jobs}", returncode=2)
        files, missing = services.expand_paths(paths)
        progress = Progress(len(files) + len(missing), "ingest", "file", enabled=not no_progress, echo=self.stderr.write)

        def report(outcome):
            progress.update()
            if outcome.status == "failed":
                progress.write(f"FAILED   {outcome.path}: {outcome.reason}")
            elif outcome.status == "skipped" and (verbosity > 1 or not outcome.reason.startswith("already ingested")):
                progress.write(f"skipped  {outcome.path}: {outcome.reason}")

        result = services.ingest_paths(paths=paths, file_format=format, on_file=report, jobs=jobs)
        progress.close()
        elapsed = max(progress.elapsed, 1e-9)
        n_files = len(result.outcomes)
        self.stdout.write(
            f"{result.count('ingested')} ingested ({result.n_spectra} spectra, {result.n_images} images), "
            f"{result.count('skipped')} skipped, {result.count('failed')} failed "
            f"of {n_files} file(s) in {elapsed:.1f} s ({n_files / elapsed:.1f} files/s)"
        )
        if result.exit_code:
            sys.exit(result.exit_code)
