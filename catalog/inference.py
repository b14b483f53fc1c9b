"""The one place the portal reaches a model: encode a spectrum, reconstruct it, or generate it at
other parameters with the *active* disentangler (the portal never calls torch directly;
``docs/architecture.md``). Artifacts come from the one cache, ``catalog.loaded_models``.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from catalog import loaded_models
from catalog.ingest.detect import read_any
from catalog.ingest.fitsio import gunzip_capped, is_gzip
from catalog.ingest.records import BadInput, LabelRecord, SpectrumRecord
from catalog.models import Labels, ModelVersion, Spectrum, Star
from ml.artifacts import LegacyArtifact

UPLOAD_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz")


class InferenceError(ValueError):
    """Cannot encode or generate; the message is for the user."""


class NoActiveModel(InferenceError):
    """No disentangler is active (a state of the service, not a bad request)."""


class MissingParameters(InferenceError):
    """The conditional parameters needed to encode a spectrum were not given."""


def active_disentangler() -> tuple[ModelVersion, object]:
    from catalog.selectors import active_version

    version = active_version(ModelVersion.Kind.DISENTANGLER)
    if version is None or not version.artifact:
        raise NoActiveModel("no disentangler is active (or its artifact is missing): train and activate one first")
    try:
        return version, loaded_models.disentangler(version.artifact, "cpu")
    except (LegacyArtifact, loaded_models.ArtifactMissing) as error:
        raise NoActiveModel(f"the active disentangler cannot be loaded: {error}") from None


def _conditional(version: ModelVersion) -> list[str]:
    return list(version.config.get("conditional", ["teff", "logg"]))


def star_parameters(star: Star, version: ModelVersion) -> dict[str, float] | None:
    """The conditional parameters of ``star`` from the version's label source (None if missing)."""
    labels = Labels.objects.filter(star=star, source=version.config.get("label_source", "grid")).first()
    if labels is None:
        return None
    values = {name: getattr(labels, name) for name in _conditional(version)}
    return None if any(v is None for v in values.values()) else values


def _star_spectrum(star: Star, version: ModelVersion) -> Spectrum:
    spectrum = star.spectra.filter(survey__code=version.config.get("survey")).order_by("pk").first()
    if spectrum is None:
        raise InferenceError(f"{star.designation} has no {version.config.get('survey')} spectrum, "
                             "the survey the active model was trained on")
    return spectrum


@dataclass
class Generated:
    wavelength: np.ndarray  # (P,) Å
    flux: np.ndarray  # (P,) normalised flux
    parameters: dict[str, float]
    outside_training_range: bool
    training_range: dict[str, tuple[float, float]]
    version_id: int


def reconstruct(star: Star) -> Generated:
    """D(E(x, cp), cp): the model's reconstruction of the star's spectrum at its own parameters."""
    version, _ = active_disentangler()
    parameters = star_parameters(star, version)
    if parameters is None:
        raise InferenceError(f"{star.designation} has no {version.config.get('label_source')!r} "
                             f"{'/'.join(_conditional(version))} to condition on")
    return generate_at(star, parameters)


def generate_at(star: Star, parameters: dict[str, float]) -> Generated:
    """The star's spectrum as the decoder draws it at other conditional parameters (its chemistry,
    z, kept). Parameters missing from ``parameters`` keep the star's own values."""
    version, model = active_disentangler()
    own = star_parameters(star, version)
    if own is None:
        raise InferenceError(f"{star.designation} has no labels to encode it with")
    spectrum = _star_spectrum(star, version)
    names = _conditional(version)
    wanted = {name: float(parameters.get(name, own[name])) for name in names}
    if not all(np.isfinite(v) for v in wanted.values()):
        raise InferenceError("parameters must be finite numbers")
    z = model.encode(spectrum.flux_array[None, :], np.array([[own[n] for n in names]], np.float32))
    target = np.array([[wanted[n] for n in names]], np.float32)
    flux = model.generate(z, target)[0]
    outside = bool(model.outside_training_range(target)[0])
    ranges = {name: tuple(float(v) for v in model.preprocessing.parameter_range[name]) for name in names}
    return Generated(wavelength=spectrum.survey.wavelength_array, flux=flux, parameters=wanted,
                     outside_training_range=outside, training_range=ranges, version_id=version.pk)


@dataclass
class PeculiarityExplanation:
    wavelength: np.ndarray  # (P,) Å, vacuum
    difference: np.ndarray  # (P,) normalised flux: what sets the star (or group) apart (see the functions)
    features: list[dict]  # the strongest, named after the nearest identified line (ml.peculiar.strongest_features)
    parameters: dict[str, float]  # cp: the star's own (a group's median)
    neighbours: int  # the twins (a group's members) it was compared with
    version_id: int
    sigma: np.ndarray | None = None  # (P,) the difference's expected spread, normalised flux (None: unknown)


def peculiarity_explanation(star: Star, k: int = 20) -> PeculiarityExplanation:
    """What sets the star apart, as the catalog's peculiarity score sees it: its decoder residual
    flux − D(E(x, cp), cp) minus the median residual of its k nearest twins (each at its own
    parameters), so the model's misfit common to stars of this chemistry cancels. Features are
    ranked by significance against the twins' own residual spread per pixel (1.4826 × MAD, floored
    at half its median) and named after the nearest line of the survey's line list."""
    from catalog import selectors

    version, model = active_disentangler()
    own = star_parameters(star, version)
    if own is None:
        raise InferenceError(f"{star.designation} has no labels to draw it with")
    spectrum = _star_spectrum(star, version)
    try:
        twins = selectors.twins_for_star(star=star, k=k, version=version).rows
    except selectors.TwinSearchError as error:
        raise InferenceError(str(error)) from None
    names = _conditional(version)
    labels = {row["star_id"]: [row[name] for name in names] for row in Labels.objects.filter(
        star_id__in=[twin.star_id for twin in twins], source=version.config.get("label_source", "grid")).values("star_id", *names)}
    usable = [twin for twin in twins if None not in labels.get(twin.star_id, [None])]
    flux = spectrum.flux_array[None, :].astype(np.float32)
    if usable:
        flux = np.vstack([flux, selectors.spectra_flux(np.array([twin.spectrum_id for twin in usable]))])
    cp = np.array([[own[name] for name in names]] + [labels[twin.star_id] for twin in usable], np.float32)
    residual = model.residual(flux, cp)
    sigma = None
    difference = residual[0]
    if len(usable) >= 3:
        theirs = residual[1:]
        typical = np.median(theirs, axis=0)
        spread = 1.4826 * np.median(np.abs(theirs - typical), axis=0)
        sigma = np.maximum(spread, 0.5 * np.median(spread) + 1e-6)
        difference = residual[0] - typical
    return _explanation(version, difference, parameters=own, neighbours=len(usable), sigma=sigma)


def _explanation(version: ModelVersion, difference: np.ndarray, *, parameters: dict, neighbours: int,
                 sigma: np.ndarray | None = None) -> PeculiarityExplanation:
    """A difference spectrum (P,) on the version's survey grid, its strongest features (by
    significance where ``sigma`` is given) named after the nearest identified line of that survey
    (unnamed where it has no line list)."""
    from catalog import selectors
    from ml.peculiar import strongest_features
    from ml.synth.lines import named_lines

    wavelength = selectors.survey_wavelength(version.config.get("survey"))
    try:
        lines = named_lines(version.config.get("survey"))
    except ValueError:
        lines = []
    return PeculiarityExplanation(wavelength=wavelength, difference=difference,
                                  features=strongest_features(wavelength, difference, lines, sigma=sigma),
                                  parameters=parameters, neighbours=neighbours, version_id=version.pk, sigma=sigma)


def group_explanation(group: int) -> PeculiarityExplanation:
    """What a chemical group shares: the decoder's spectrum of the group's mean latent minus that of
    the whole catalog's mean latent, both at the group's median parameters; strongest features named."""
    from catalog import selectors

    version, model = active_disentangler()
    members = list(selectors.group_members(group, version).values_list("spectrum_id", "teff", "logg"))
    if not members:
        raise InferenceError(f"there is no group {group} under the active disentangler")
    every = selectors.version_latents(version)
    inside = np.isin(every.spectrum_ids, [m[0] for m in members])
    names = _conditional(version)
    columns = {"teff": every.teff, "logg": every.logg}
    if any(name not in columns for name in names):
        raise InferenceError("this model is conditioned on more than Teff and logg: no group spectrum")
    cp = np.array([[float(np.nanmedian(columns[name][inside])) for name in names]] * 2, np.float32)
    drawn = model.generate(np.stack([every.latents[inside].mean(axis=0), every.latents.mean(axis=0)]).astype(np.float32), cp)
    return _explanation(version, drawn[0] - drawn[1], parameters=dict(zip(names, cp[0].tolist())),
                        neighbours=int(inside.sum()))


def too_large(name: str, size: int | None = None) -> str:
    """The one message for a file over ``DOPPEL_UPLOAD_MAX_BYTES`` (web, API and the upload handler)."""
    limit = settings.UPLOAD_MAX_BYTES
    what = f"{size / 1e6:.1f} MB is" if size else "the file is"
    return f"{Path(name or 'upload').name}: {what} over the {limit / 1e6:.1f} MB upload limit"


@dataclass
class UploadedSpectrum:
    flux: np.ndarray  # (P,) on the active model's survey grid
    survey: str
    parameters: dict[str, float]  # from the file when it carries them (else empty)
    name: str


def read_upload(uploaded, *, survey: str) -> UploadedSpectrum:
    """The first ``survey`` spectrum in an uploaded FITS file (any supported format, gzip allowed).
    Raises BadInput with the reason (size, format, survey, grid). A gzip file is decompressed with
    a byte cap, and ``read_any`` checks the declared data sizes against the cap and the file before
    astropy reads a byte of data."""
    name = Path(getattr(uploaded, "name", "upload.fits")).name
    limit = settings.UPLOAD_MAX_BYTES
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise BadInput(too_large(name, size))
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise BadInput(f"{name}: upload a FITS file ({', '.join(UPLOAD_SUFFIXES)})")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        written = 0
        with open(path, "wb") as handle:
            for chunk in (uploaded.chunks() if hasattr(uploaded, "chunks") else [uploaded.read()]):
                written += len(chunk)
                if written > limit:
                    raise BadInput(too_large(name))
                handle.write(chunk)
        if is_gzip(path):
            plain = Path(folder) / (name[:-3] if name.lower().endswith(".gz") else f"{name}.fits")
            try:
                gunzip_capped(path, plain, limit)
            except BadInput as error:
                raise BadInput(f"{name}: {error}") from None
            path = plain
        try:
            records = list(read_any(path, max_bytes=limit))
        except BadInput as error:
            raise BadInput(f"{name}: {error}") from None
        except Exception as error:  # astropy's many ways to say "corrupt"
            raise BadInput(f"{name}: could not be read as FITS ({type(error).__name__}: {error})") from None
    spectra = [r for r in records if isinstance(r, SpectrumRecord)]
    if not spectra:
        raise BadInput(f"{name}: no spectrum found in the file")
    matching = [r for r in spectra if r.survey == survey]
    if not matching:
        raise BadInput(f"{name}: holds a {spectra[0].survey} spectrum; the active model encodes {survey} spectra")
    labels = next((r for r in records if isinstance(r, LabelRecord)), None)
    parameters = {k: float(v) for k, v in (labels.values if labels else {}).items()
                  if v is not None and k in ("teff", "logg", "fe_h", "alpha_fe")}
    return UploadedSpectrum(flux=matching[0].flux.astype(np.float32), survey=survey, parameters=parameters, name=name)


def encode_flux(flux: np.ndarray, parameters: dict[str, float]) -> tuple[ModelVersion, np.ndarray]:
    """Latent (25,) of a spectrum on the active model's grid at the given conditional parameters."""
    version, model = active_disentangler()
    names = _conditional(version)
    n_pixels = len(model.preprocessing.flux.mean)
    flux = np.asarray(flux, np.float32).reshape(-1)
    if flux.shape != (n_pixels,):
        raise InferenceError(f"the spectrum has {flux.size} pixels; the active model's {version.config.get('survey')} "
                             f"grid has {n_pixels}")
    if not np.isfinite(flux).all():
        raise InferenceError("the spectrum has NaN or infinite flux values")
    missing = [n for n in names if parameters.get(n) is None]
    if missing:
        raise MissingParameters(f"the active model needs {', '.join(missing)} to encode a spectrum")
    cp = np.array([[float(parameters[n]) for n in names]], np.float32)
    return version, model.encode(flux[None, :], cp)[0]


@dataclass
class UploadTwins:
    spectrum: UploadedSpectrum
    parameters: dict[str, float]  # what the spectrum was encoded at: the file's labels, overridden by the user's
    version: ModelVersion
    result: object  # catalog.selectors.TwinResult


def twins_for_upload(uploaded, *, given: dict[str, float | None], k: int, filters) -> UploadTwins:
    """The k nearest stars, under the active model, of a spectrum in an uploaded FITS file.

    ``given`` parameters (None = not given) override those the file carries. Raises BadInput (the
    file), MissingParameters, NoActiveModel, InferenceError or TwinSearchError, each with a message
    for the user; nothing is written."""
    from catalog.selectors import twins_for_latent

    version, _ = active_disentangler()
    spectrum = read_upload(uploaded, survey=version.config.get("survey", "apogee"))
    parameters = {**spectrum.parameters, **{name: float(v) for name, v in given.items() if v is not None}}
    version, latent = encode_flux(spectrum.flux, parameters)
    result = twins_for_latent(latent=latent, k=k, filters=filters, version=version, parameters=parameters)
    return UploadTwins(spectrum=spectrum, parameters=parameters, version=version, result=result)
