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
