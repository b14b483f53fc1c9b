"""The "at another Teff/logg" sliders read as a person writes numbers: whole K, 0.01 dex, no
float32 noise in their values, limits or labels."""
import re

import pytest

pytestmark = pytest.mark.django_db


def test_slider_numbers_have_no_float_noise(client, active_disentangler):
    version, spectra = active_disentangler
    page = client.get(f"/stars/{spectra[0].star_id}/").content.decode()
    sliders = re.findall(r'<input class="generate-slider"[^>]*>', page, flags=re.S)
    assert len(sliders) == 2
    for slider in sliders:
        for number in re.findall(r'(?:min|max|value|data-train-low|data-train-high)="([^"]+)"', slider):
            assert len(number.split(".")[1]) <= 2 if "." in number else True, slider
