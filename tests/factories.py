"""factory_boy factories for catalog rows, with physically plausible defaults."""
import factory
import numpy as np

from catalog.arrays import array_to_bytes
from catalog.models import (
    BHBLabel, BHBScore, Embedding, Image, Labels, ModelVersion, Spectrum, Star, Survey, TrainingRun,
)

TOY_PIXELS = 64


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey
        django_get_or_create = ("code",)

    code = "apogee"
    name = "APOGEE"
    resolution = 22500.0
    flux_unit = "normalised"
    n_pixels = TOY_PIXELS
    wavelength = factory.LazyAttribute(lambda s: array_to_bytes(np.linspace(15100.0, 17000.0, s.n_pixels)))


class StarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Star

    designation = factory.Sequence(lambda n: f"2M{n:08d}+0000000")
    ra = factory.Sequence(lambda n: (n * 7.3) % 360.0)
    dec = factory.Sequence(lambda n: ((n * 3.1) % 180.0) - 90.0)


class SpectrumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Spectrum

    star = factory.SubFactory(StarFactory)
    survey = factory.SubFactory(SurveyFactory)
    flux = factory.LazyAttribute(lambda s: array_to_bytes(np.ones(s.survey.n_pixels)))
    error = factory.LazyAttribute(lambda s: array_to_bytes(np.full(s.survey.n_pixels, 0.01)))
    snr = 100.0
    source_key = "0"


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    star = factory.SubFactory(StarFactory)
    height = 8
    width = 8
    pixel_scale = 0.396
    cube = factory.LazyAttribute(lambda i: array_to_bytes(np.zeros((5, i.height, i.width))))


class LabelsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Labels

    star = factory.SubFactory(StarFactory)
    source = "grid"
    teff = 4500.0
    logg = 2.0
    fe_h = 0.0
    alpha_fe = 0.0


class BHBLabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BHBLabel

    star = factory.SubFactory(StarFactory)
    is_bhb = True
    catalogue = "xue2011"


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    kind = ModelVersion.Kind.DISENTANGLER
    config = factory.LazyFunction(dict)


class TrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRun

    model_version = factory.SubFactory(ModelVersionFactory)


class EmbeddingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Embedding

    model_version = factory.SubFactory(ModelVersionFactory)
    spectrum = factory.SubFactory(SpectrumFactory)
    vector = factory.LazyFunction(lambda: np.random.default_rng().normal(size=25).astype(np.float32))


class BHBScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BHBScore

    model_version = factory.SubFactory(ModelVersionFactory, kind=ModelVersion.Kind.BHB)
    star = factory.SubFactory(StarFactory)
    score = 0.5


def toy_grid(*, n_groups: int = 8, per_group: int = 16, seed: int = 0, survey_code: str = "apogee",
             pixels: int = TOY_PIXELS) -> list[Spectrum]:
    """A tiny labelled grid on the 64-pixel toy survey: each star's flux = a Teff/logg shape +
    its group's chemical pattern + noise, with grid labels and the group id, like a synthetic grid."""
    rng = np.random.default_rng(seed)
    survey = SurveyFactory(code=survey_code, n_pixels=pixels)
    x = np.linspace(0.0, 1.0, survey.n_pixels)
    patterns = rng.normal(0.0, 0.05, size=(n_groups, survey.n_pixels))
    spectra = []
    for group in range(n_groups):
        for k in range(per_group):
            teff, logg = rng.uniform(3500, 5500), rng.uniform(0.5, 4.5)
            shape = 0.2 * np.sin(6 * x * teff / 5000) + 0.1 * np.cos(4 * x * logg)
            flux = 1.0 + shape + patterns[group] + rng.normal(0, 0.005, survey.n_pixels)
            star = StarFactory(group=group)
            LabelsFactory(star=star, teff=teff, logg=logg, fe_h=float(patterns[group, 0]), alpha_fe=0.0)
            spectra.append(SpectrumFactory(star=star, survey=survey, flux=array_to_bytes(flux)))
    return spectra


TOY_TRAINING = {"epochs": 3, "batch_size": 16, "encoder_hidden": [32], "decoder_hidden": [32],
                "discriminator_hidden": [16], "patience": 0, "n_bins": 4}
