"""The CUDA paths: training on a GPU with bf16 autocast, and GPU-trained models used on a CPU worker.

Skipped where torch sees no CUDA device (CI has none). These tests touch only ``ml/``, so on a GPU
machine they run without the project's database fixtures:

    python -m pytest --noconftest tests/test_cuda_paths.py
"""
from dataclasses import replace

import numpy as np
import pytest
import torch

from ml.batmm import N_PIXELS, BATMM
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, load_model, save_model
from ml.disentangler import DisentanglerTrainer, TrainedDisentangler
from tests.test_bhb_training import TINY, separable_set
from tests.test_disentangler_model import config, toy_grid

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

WITH_COLOURS = replace(TINY, colour_token=True)  # BATMM as the portal trains it by default


def test_disentangler_trains_on_the_gpu_with_bf16_autocast():
    flux, parameters, _ = toy_grid()
    trainer = DisentanglerTrainer(config(epochs=8, device="cuda", amp=True), flux, parameters)
    assert trainer.device.type == "cuda" and next(trainer.model.parameters()).is_cuda
    history = trainer.fit()
    reconstruction = [epoch["train_reconstruction"] for epoch in history.epochs]
    assert np.isfinite(reconstruction).all()
    assert reconstruction[-1] < 0.5 * reconstruction[0]


def test_a_gpu_trained_disentangler_gives_the_same_latents_on_a_cpu_worker(tmp_path):
    """The GPU worker trains and saves; a CPU worker loads the artifact and fills the embeddings."""
    flux, parameters, _ = toy_grid()
    trainer = DisentanglerTrainer(config(epochs=2, device="cuda"), flux, parameters)
    trainer.fit()
    model = trainer.trained()
    path = model.save(tmp_path / "disentangler.pt")
    on_gpu = model.encode(flux, parameters)
    on_cpu = TrainedDisentangler.load(path, device="cpu").encode(flux, parameters)
    np.testing.assert_allclose(on_cpu, on_gpu, atol=1e-3 * float(np.abs(on_cpu).max()))
    generated = model.generate(on_gpu[:4], parameters[:4])
    assert generated.shape == (4, flux.shape[1]) and np.isfinite(generated).all()


def test_batmm_under_bf16_autocast_agrees_with_float32_on_the_cpu():
    torch.manual_seed(0)
    model = BATMM(WITH_COLOURS).eval()
    spectrum, image, colours = torch.rand(4, N_PIXELS) * 100, torch.randn(4, 5, 64, 64), torch.randn(4, 5)
    with torch.no_grad():
        reference = model(spectrum, image, colours)
        model.cuda()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            on_gpu = model(spectrum.cuda(), image.cuda(), colours.cuda())
    probability = lambda out: torch.softmax(out["logits"].float().cpu(), dim=1)  # noqa: E731
    torch.testing.assert_close(probability(on_gpu), probability(reference), atol=0.05, rtol=0)
    for key in ("segment_weights", "band_weights"):
        torch.testing.assert_close(on_gpu[key].float().sum(dim=1).cpu(), torch.ones(4), atol=1e-2, rtol=0)


def test_batmm_learns_on_the_gpu_and_its_artifact_loads_on_a_cpu(tmp_path):
    spectra, images, labels = separable_set()
    # 16 encoder epochs as in tests/test_bhb_training.py: behind the segment denoiser, 12 leave VGG1D at
    # F1 0.899 on this set (checked on the CPU with "cuda" read as "cpu").
    training = BHBTrainingConfig(model=WITH_COLOURS, epochs_encoder=16, epochs_fusion=12, batch_size=16, lr=3e-3, patience=0,
                                 spectrum_noise=0.0, device="cuda")
    trainer = BHBTrainer(training, spectra, images, labels)
    results = trainer.run(ablations=False)
    assert results["VGG1D (spectrum)"]["f1_macro"] > 0.9 and results["BATMM"]["f1_macro"] > 0.9
    model = trainer.model()
    save_model(model, tmp_path / "batmm.pt", {"image_scale": trainer.image_scale})
    loaded, state = load_model(tmp_path / "batmm.pt", device="cpu")
    spectrum = torch.as_tensor(spectra[:8])
    image = torch.asinh(torch.as_tensor(images[:8]) / state["image_scale"][None, :, None, None])
    colours = trainer.psf_colours[:8]
    with torch.no_grad():
        on_cpu = torch.softmax(loaded(spectrum, image, colours)["logits"], dim=1)
        on_gpu = torch.softmax(model.cuda()(spectrum.cuda(), image.cuda(), colours.cuda())["logits"], dim=1).cpu()
    torch.testing.assert_close(on_cpu, on_gpu, atol=1e-2, rtol=0)  # cuDNN convolutions may run in TF32
