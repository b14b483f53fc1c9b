"""A real worker trains a (tiny) BATMM, scores every star with both modalities, and activates it."""
import numpy as np
import pytest

from catalog import selectors
from catalog.arrays import array_to_bytes
from catalog.models import BHBScore, ModelVersion
from tasks.pipeline import start_retrain
from tests.factories import BHBLabelFactory, ImageFactory, SpectrumFactory, StarFactory, SurveyFactory
from tests.test_retrain_pipeline import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TINY = {"model": {"width": 0.0625, "d_model": 32, "n_layers": 1, "n_heads": 4, "dropout": 0.0},
        "training": {"epochs_encoder": 1, "epochs_fusion": 1, "batch_size": 8, "lr": 0.003, "patience": 0},
        "activation": {"mode": "always"}}


def _stars(n_labelled=24, n_unlabelled=6, seed=0):
    rng = np.random.default_rng(seed)
    sdss = SurveyFactory(code="sdss", name="SDSS", n_pixels=3522, flux_unit="1e-17 erg/s/cm2/Å")
    stars = []
    for k in range(n_labelled + n_unlabelled):
        star = StarFactory()
        is_bhb = k % 2 == 0
        flux = 50 + rng.normal(0, 1, 3522) - (20 if is_bhb else 5) * np.exp(-0.5 * ((np.arange(3522) - 300) / 10) ** 2)
        SpectrumFactory(star=star, survey=sdss, flux=array_to_bytes(flux))
        ImageFactory(star=star, height=16, width=16, cube=array_to_bytes(rng.normal(1, 0.1, (5, 16, 16))))
        if k < n_labelled:
            BHBLabelFactory(star=star, is_bhb=is_bhb, catalogue="synthetic")
        stars.append(star)
    StarFactory()  # a star without an image or spectrum is not scored
    return stars


def test_train_score_activate_bhb(celery_worker_process):
    stars = _stars()
    version = wait_for(start_retrain(kind="bhb", config=TINY), {ModelVersion.State.ACTIVE, ModelVersion.State.FAILED},
                       celery_worker_process, timeout=240)
    run = version.latest_run
    assert version.state == ModelVersion.State.ACTIVE, run.error
    assert BHBScore.objects.filter(model_version=version).count() == len(stars) == selectors.bhb_eligible_count()
    assert {"f1_macro", "precision_bhb", "recall_bhb", "confusion"} <= set(version.metrics)
    stages = {record["stage"] for record in run.loss_history}
    assert stages == {"VGG1D", "ResNet+SE", "BATMM"}
    scores = BHBScore.objects.filter(model_version=version).values_list("score", flat=True)
    assert all(0.0 <= score <= 1.0 for score in scores)
