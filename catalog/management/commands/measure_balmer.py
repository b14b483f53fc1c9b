"""manage.py measure_balmer — measure the Balmer lines (D0.2, fm, c, b; Xue et al. 2008) of every
SDSS spectrum that has none yet: the spectra stored before the catalog measured them on ingest.

Safe to interrupt and to run again: each batch is committed whole, and measured spectra are skipped.
Exit status 0; it only reads spectra already in the catalog.
"""
from django.core.management.base import BaseCommand, CommandError

from catalog import selectors, services
from catalog.progress import Progress


class Command(BaseCommand):
    help = "Measure the Balmer lines of every SDSS spectrum that has none yet (batches, resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="spectra per transaction (default 500)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        todo = selectors.balmer_lines_unmeasured().count()
        if not todo:
            self.stdout.write("every SDSS spectrum already has its Balmer lines measured")
            return
        progress = Progress(todo, "Balmer lines", "spectrum", enabled=not no_progress, echo=self.stderr.write)
        measured = services.balmer_lines_fill(batch_size=batch_size, on_batch=progress.update)
        progress.close()
        elapsed = max(progress.elapsed, 1e-9)
        self.stdout.write(f"measured the Balmer lines of {measured} SDSS spectra in {elapsed:.1f} s "
                          f"({measured / elapsed:.0f} spectra/s)")
