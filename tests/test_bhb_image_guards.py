"""The image encoder's guards against memorising cutouts: dihedral turns of training batches and
the auxiliary regression of the cutouts' own PSF colours."""
import numpy as np
import pytest
import torch

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, dihedral, image_head
from ml.photometry import psf_colours
from ml.synth.bhb import bhb_sample

TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=1, n_heads=4, dropout=0.0)


def _d4(image: torch.Tensor) -> list[torch.Tensor]:
    turns = [torch.rot90(image, k, dims=(-2, -1)) for k in range(4)]
    return turns + [turn.flip(-1) for turn in turns]


def test_dihedral_gives_every_element_of_d4_and_nothing_else():
    image = torch.arange(2 * 5 * 4 * 4, dtype=torch.float32).reshape(2, 5, 4, 4)
    group = _d4(image)
    generator = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(200):
        turned = dihedral(image, generator)
        matches = [k for k, element in enumerate(group) if torch.equal(turned, element)]
        assert len(matches) == 1  # a rotation/mirror of the whole batch, pixels untouched
        seen.add(matches[0])
    assert seen == set(range(8))


def test_dihedral_is_reproducible_for_a_seed():
    image = torch.randn(3, 5, 8, 8)
    first = [dihedral(image, torch.Generator().manual_seed(7)) for _ in range(2)]
    torch.testing.assert_close(first[0], first[1])


@pytest.fixture(scope="module")
def sample():
    generated = bhb_sample(48, 48, np.random.default_rng(1))
    return generated.flux, generated.images, generated.is_bhb.astype(int)


def _trainer(sample, **training):
    spectra, images, labels = sample
    config = BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=1, batch_size=16, lr=3e-3, patience=0, **training)
    return BHBTrainer(config, spectra, images, labels)


def test_colour_targets_are_the_cutouts_psf_colours_standardised_on_the_training_split(sample):
    trainer = _trainer(sample)
    train = trainer.split["train"]
    assert trainer.colours.shape == (len(sample[2]), 5)
    assert trainer.colours[train].mean(0).abs().max() < 1e-4
    assert trainer.colours[train].std(0, unbiased=False) == pytest.approx(torch.ones(5), abs=1e-4)
    measured = psf_colours(sample[1])
    assert np.corrcoef(measured[:, 1], trainer.colours[:, 1].numpy())[0, 1] == pytest.approx(1.0)


def test_switching_the_guards_off(sample):
    assert _trainer(sample, image_colour_weight=0.0).colours is None


def test_training_batches_are_turned_and_validation_is_not(sample):
    trainer = _trainer(sample)
    calls = []

    def spy(batch, index, generator):
        calls.append(batch[0].shape[0])
        return batch

    inputs = lambda index: (trainer._images(index),)  # noqa: E731
    trainer._train(image_head(TINY), inputs, 2, "image", augment=spy)
    assert sum(calls) == 2 * len(trainer.split["train"])  # every training star, each epoch, and no other


def test_the_auxiliary_head_learns_the_colours(sample):
    """Trained on the colour loss alone, the auxiliary head's error on the cutouts' PSF colours
    must halve."""
    torch.manual_seed(0)
    trainer = _trainer(sample, image_colour_weight=1.0)
    head = image_head(TINY, n_colours=5)
    every = np.arange(len(sample[2]))
    images = trainer._images(every)
    optimiser = torch.optim.Adam(head.parameters(), lr=3e-3)

    def colour_error():
        head.eval()
        with torch.no_grad():
            return float(trainer._colour_loss(head, head(images), every))

    before = colour_error()
    for _ in range(60):
        head.train()
        loss = trainer._colour_loss(head, head(images), every)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert colour_error() < 0.5 * before
