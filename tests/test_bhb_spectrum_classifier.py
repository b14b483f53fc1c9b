"""The spectrum classifier (VGG1D's head and the fusion's skip) lets evidence from different
segments interact; the linear readout it replaced could only add it up."""
import pytest
import torch
from torch.nn import functional as F

from ml.batmm import BATMMConfig, spectrum_classifier

SMALL = BATMMConfig(width=0.0625, d_model=4, n_layers=1, n_heads=2, dropout=0.0)


def _stars(n, generator):
    """Random tokens (n, 7, 4); the class is the sign of feature 0 of segment 1 times feature 2 of segment 5."""
    tokens = torch.randn(n, 7, 4, generator=generator)
    return tokens, (tokens[:, 1, 0] * tokens[:, 5, 2] > 0).long()


def _held_out_accuracy(classifier, steps=400):
    generator = torch.Generator().manual_seed(0)
    (tokens, labels), (new_tokens, new_labels) = _stars(2048, generator), _stars(1024, generator)
    optimiser = torch.optim.Adam(classifier.parameters(), lr=3e-3)
    for _ in range(steps):
        optimiser.zero_grad()
        F.cross_entropy(classifier(tokens.flatten(1)), labels).backward()
        optimiser.step()
    with torch.no_grad():
        return (classifier(new_tokens.flatten(1)).argmax(1) == new_labels).float().mean().item()


@pytest.mark.parametrize("hidden", [0, 64])
def test_only_the_hidden_layer_reads_a_class_set_by_two_segments_together(hidden):
    """The class is the sign of a product of one feature in segment 1 and one in segment 5 (a line
    that means BHB on a hot continuum and not on a cool one): no sum of per-segment terms separates
    it, so on new stars the linear readout stays near chance and the hidden layer does not."""
    torch.manual_seed(0)
    classifier = spectrum_classifier(BATMMConfig(**{**SMALL.__dict__, "spectrum_hidden": hidden}))
    accuracy = _held_out_accuracy(classifier)
    if hidden:
        assert accuracy > 0.75  # 0.83 here; the linear readout 0.53
    else:
        assert isinstance(classifier, torch.nn.Linear) and accuracy < 0.6


def test_the_classifier_maps_flattened_tokens_to_two_logits():
    classifier = spectrum_classifier(BATMMConfig(**{**SMALL.__dict__, "spectrum_hidden": 32}))
    assert classifier(torch.randn(3, 7 * 4)).shape == (3, 2)
    assert [module.__class__.__name__ for module in classifier] == ["Linear", "GELU", "Dropout", "Linear"]
