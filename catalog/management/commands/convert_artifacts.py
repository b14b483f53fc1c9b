"""manage.py convert_artifacts — rewrite model artifacts written before weights-only artifacts.

Doppel loads artifacts with ``torch.load(weights_only=True)`` and refuses older pickled files. Run
this once after upgrading; it unpickles those files, so run it only on artifacts this installation
wrote. Files already converted are left alone.
"""
from django.core.management.base import BaseCommand, CommandError

from catalog.services.artifacts import artifacts_convert


class Command(BaseCommand):
    help = "Rewrite every model version's artifact in the weights-only format (once, after an upgrade)."

    def handle(self, *args, **options):
        report = artifacts_convert()
        for path in report.converted:
            self.stdout.write(f"converted {path}")
        for path in report.missing:
            self.stderr.write(f"missing   {path}")
        for line in report.failed:
            self.stderr.write(f"FAILED    {line}")
        self.stdout.write(f"{len(report.converted)} converted, {len(report.current)} already weights-only, "
                          f"{len(report.missing)} missing, {len(report.failed)} failed")
        if report.failed:
            raise CommandError("some artifacts could not be converted (above)", returncode=1)
