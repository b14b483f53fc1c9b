"""manage.py convert_artifacts — rewrite model artifacts written before weights-only artifacts.

Doppel loads artifacts with ``torch.load(weights_only=True)`` and refuses older pickled ones. Run
this once after upgrading (after ``migrate``, which moves the artifact files into the database); it
unpickles those artifacts, so run it only where this installation wrote them. Artifacts already
converted are left alone.
"""
from django.core.management.base import BaseCommand, CommandError

from catalog.services.artifacts import artifacts_convert


class Command(BaseCommand):
    help = "Rewrite every model version's artifact in the weights-only format (once, after an upgrade)."

    def handle(self, *args, **options):
        report = artifacts_convert()
        for version in report.converted:
            self.stdout.write(f"converted {version}")
        for version in report.missing:
            self.stderr.write(f"missing   {version}")
        for line in report.failed:
            self.stderr.write(f"FAILED    {line}")
        self.stdout.write(f"{len(report.converted)} converted, {len(report.current)} already weights-only, "
                          f"{len(report.missing)} missing, {len(report.failed)} failed")
        if report.failed:
            raise CommandError("some artifacts could not be converted (above)", returncode=1)
