"""manage.py demo_train — train, fill and activate small demo models through the real workers.

Starts the retrain chain for a disentangler (on the demo grid) and a BATMM (on the demo BHB
sample) unless one is already active, then waits, printing each run's phase and epoch. Needs a
running worker (``make worker-bg``). The sizes are chosen to finish in a couple of minutes on two
CPU cores; they are a demo, not the published configurations (see research/configs).
"""
import time

from django.core.management.base import BaseCommand, CommandError

from catalog import selectors
from catalog.model_config import ConfigError
from catalog.models import ModelVersion

DEMO_CONFIGS = {
    "disentangler": {
        # The default preset with a 3× learning rate: it takes Teff and logg out of z in ~7 epochs
        # instead of ~20 (docs/research/disentangler.md, "The demo"), which fits the demo's minutes.
        "training": {"preset": "twins", "epochs": 12, "batch_size": 50, "lr_autoencoder": 3e-3,
                     "lr_discriminator": 3e-3, "patience": 0},
        "evaluation": {"abundances": ["Mg_Fe"], "probe_train_size": 2000, "probe_test_size": 1000, "map_sample": 2000},
        "activation": {"mode": "always", "metric": "twin_recall_at_10", "tolerance": 0.0},
    },
    "bhb": {
        # 2,400 stars (demo_build), the colour token, 8 VGG1D epochs at batch 64 and lr 6e-4 (as good
        # as 10 at batch 32 and 3e-4, in two thirds of the time), 6 fusion epochs, and 3 for the image
        # encoder, which learns little on a sample this small (validation F1 ≈ 0.52 from epoch 2 to
        # 10) while the colour token's measured PSF colours carry the images (docs/research/bhb.md,
        # "The demo model").
        "model": {"width": 0.125, "d_model": 64, "n_layers": 2, "n_heads": 4, "colour_token": True},
        "training": {"epochs_encoder": 8, "epochs_image": 3, "epochs_fusion": 6, "batch_size": 64, "lr": 6e-4,
                     "patience": 0},
        "activation": {"mode": "always", "metric": "f1_macro", "tolerance": 0.0},
    },
}


class Command(BaseCommand):
    help = "Train and activate the demo models through the Celery workers (skips kinds already active)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the runs")

    def handle(self, *args, timeout, **options):
        from portal.celery import app
        from tasks.pipeline import start_retrain

        if not (app.control.ping(timeout=2.0) or []):
            raise CommandError("no Celery worker answers; start one with `make worker-bg`")
        waiting = []
        for kind, config in DEMO_CONFIGS.items():
            if selectors.active_version(kind):
                self.stdout.write(f"{kind}: {selectors.active_version(kind)} is already active")
                continue
            try:
                version = start_retrain(kind=kind, config=config)
            except ConfigError as error:
                raise CommandError(f"{kind}: {error}") from None
            self.stdout.write(f"{kind}: {version} queued")
            waiting.append(version)
        deadline, last = time.monotonic() + timeout, {}
        while waiting and time.monotonic() < deadline:
            for version in list(waiting):
                version.refresh_from_db()
                run = version.latest_run
                line = f"{version.kind} v{version.pk}: {version.state} · {run.phase or '—'} · {_epoch(run)}"
                if last.get(version.pk) != line:
                    self.stdout.write(line)
                    last[version.pk] = line
                if version.state == ModelVersion.State.ACTIVE:
                    waiting.remove(version)
                elif version.state in (ModelVersion.State.FAILED, ModelVersion.State.CANCELLED):
                    raise CommandError(f"{version} ended {version.state}: {run.error.splitlines()[0] if run.error else ''}")
                elif version.state == ModelVersion.State.READY and "not activated" in run.logs:
                    raise CommandError(f"{version} is ready but was not activated: {run.logs.splitlines()[-1]}")
                # ready without a decision yet: the latent map is being built, activation follows
            time.sleep(1.0)
        if waiting:
            raise CommandError(f"still running after {timeout:.0f} s: {', '.join(map(str, waiting))}")
        self.stdout.write(self.style.SUCCESS("demo models active"))
        star = selectors.stars_search(selectors.StarQuery(text="SYNA")).first()
        if star is not None:
            self.stdout.write(f"open a star with twins:  /stars/{star.pk}/twins/?k=10   (its page: /stars/{star.pk}/)")
        self.stdout.write("latent map:              /latent-map/")
        self.stdout.write("BHB candidates:          /bhb/")


def _epoch(run) -> str:
    """"epoch 7", or for a run of several stages (BATMM) "VGG1D epoch 3 of 8": its counter restarts."""
    last = run.loss_history[-1] if run.loss_history else {}
    if "stage" not in last:
        return f"epoch {run.epoch}"
    return f"{last['stage']} epoch {last['epoch']} of {last['epochs']}"
