"""The catalog: stars, their spectra, images and labels, and the models trained on them.

Units: ra/dec in degrees (ICRS); wavelengths in vacuum Ångström (as APOGEE, Gaia RVS and SDSS
DR8+ publish them); Teff in K; logg in dex (cgs); abundances in dex. Spectra and images are stored as
little-endian float32 ``bytea`` (see :mod:`catalog.arrays`).
"""
from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Radians

from catalog.arrays import STORED_DTYPE, array_to_bytes, bytes_to_array, bytes_to_error, error_to_bytes

LATENT_DIM = 25
BANDS = "ugriz"


class Survey(models.Model):
    """A spectroscopic survey and its common wavelength grid (stored once, not per spectrum)."""

    code = models.SlugField(max_length=32, unique=True, help_text="apogee, gaia_rvs or sdss")
    name = models.CharField(max_length=100)
    resolution = models.FloatField(help_text="Resolving power R = λ/Δλ")
    flux_unit = models.CharField(max_length=100, help_text="e.g. 'normalised' or '1e-17 erg/s/cm2/Å'")
    wavelength = models.BinaryField(help_text="float32 grid in Å, one value per pixel")
    n_pixels = models.PositiveIntegerField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def wavelength_array(self) -> np.ndarray:
        """The grid, shape (n_pixels,), Å."""
        return bytes_to_array(self.wavelength, (self.n_pixels,))


class Star(models.Model):
    designation = models.CharField(max_length=64, unique=True)
    ra = models.FloatField(help_text="deg, ICRS")
    dec = models.FloatField(help_text="deg, ICRS")
    apogee_id = models.CharField(max_length=40, blank=True, db_index=True)
    gaia_source_id = models.BigIntegerField(null=True, blank=True, unique=True)
    sdss_plate = models.PositiveIntegerField(null=True, blank=True)
    sdss_mjd = models.PositiveIntegerField(null=True, blank=True)
    sdss_fiber = models.PositiveIntegerField(null=True, blank=True)
    group = models.IntegerField(
        null=True, blank=True, db_index=True,
        help_text="chemical-profile id of a synthetic grid (evaluation only)",
    )
    # The preferred labels (catalog.selectors.stars.LABEL_PREFERENCE), copied from Labels by a
    # trigger on every write to it (migration 0014), so that searches filter and sort on indexed
    # columns instead of a subquery per star.
    teff = models.FloatField(null=True, blank=True, editable=False, help_text="K, preferred label source")
    logg = models.FloatField(null=True, blank=True, editable=False, help_text="dex, preferred label source")
    fe_h = models.FloatField(null=True, blank=True, editable=False, help_text="dex, preferred label source")
    alpha_fe = models.FloatField(null=True, blank=True, editable=False, help_text="dex, preferred label source")

    class Meta:
        ordering = ["designation"]
        constraints = [
            models.CheckConstraint(condition=Q(ra__gte=0) & Q(ra__lt=360), name="star_ra_range"),
            models.CheckConstraint(condition=Q(dec__gte=-90) & Q(dec__lte=90), name="star_dec_range"),
            models.UniqueConstraint(
                fields=["sdss_plate", "sdss_mjd", "sdss_fiber"], name="star_unique_sdss_id",
                condition=Q(sdss_plate__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["dec", "ra"], name="star_dec_ra"),
                   # ADQL's CONTAINS(POINT, CIRCLE) looks up a band of radians(dec) (migration 0018)
                   models.Index(Radians("dec"), name="star_dec_radians"),
                   models.Index(fields=["teff"], name="star_teff"), models.Index(fields=["logg"], name="star_logg"),
                   models.Index(fields=["fe_h"], name="star_fe_h")]

    PARAMETERS = ("teff", "logg", "fe_h", "alpha_fe")  # written by the database only

    def __str__(self) -> str:
        return self.designation

    def save(self, *args, **kwargs):
        """Save; an existing star's preferred labels are left to the database's trigger (a star
        read before its labels arrived must not write its stale copy back)."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in self.PARAMETERS]
        super().save(*args, **kwargs)

    @property
    def sdss_id(self) -> str:
        """plate-mjd-fiber, or '' when the star has no SDSS spectrum id."""
        if self.sdss_plate is None:
            return ""
        return f"{self.sdss_plate:04d}-{self.sdss_mjd}-{self.sdss_fiber:04d}"


class Spectrum(models.Model):
    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="spectra")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="spectra")
    flux = models.BinaryField(help_text="float32, one value per survey pixel")
    error = models.BinaryField(null=True, blank=True,
                                help_text="float32 1σ flux error, same unit: one per pixel, or one for every pixel")
    snr = models.FloatField(null=True, blank=True, help_text="median S/N per pixel")
    source_file = models.CharField(max_length=500, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    source_key = models.CharField(max_length=100, default="", help_text="HDU/row inside the file")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "spectra"
        constraints = [
            models.UniqueConstraint(fields=["star", "survey", "source_key"], name="spectrum_unique_source"),
            models.CheckConstraint(condition=Q(snr__isnull=True) | Q(snr__gte=0), name="spectrum_snr_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.star} / {self.survey}"

    @property
    def flux_array(self) -> np.ndarray:
        return bytes_to_array(self.flux)

    @property
    def error_array(self) -> np.ndarray | None:
        return bytes_to_error(self.error, len(self.flux) // STORED_DTYPE.itemsize)

    def set_arrays(self, flux, error=None) -> None:
        self.flux = array_to_bytes(flux)
        self.error = error_to_bytes(error)


class Image(models.Model):
    """A ugriz cutout centred on the star, stored as a float32 cube of shape (5, height, width)."""

    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="images")
    bands = models.CharField(max_length=5, default=BANDS)
    cube = models.BinaryField()
    height = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    pixel_scale = models.FloatField(help_text="arcsec per pixel")
    source_file = models.CharField(max_length=500, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    source_key = models.CharField(max_length=100, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["star", "source_key"], name="image_unique_source"),
            models.CheckConstraint(condition=Q(pixel_scale__gt=0), name="image_pixel_scale_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.star} {self.bands} {self.height}x{self.width}"

    @property
    def cube_array(self) -> np.ndarray:
        """Shape (len(bands), height, width), float32."""
        return bytes_to_array(self.cube, (len(self.bands), self.height, self.width))

    def set_cube(self, cube) -> None:
        cube = np.asarray(cube)
        if cube.ndim != 3 or cube.shape[0] != len(self.bands):
            raise ValueError(f"cube must have shape ({len(self.bands)}, H, W), got {cube.shape}")
        self.height, self.width = int(cube.shape[1]), int(cube.shape[2])
        self.cube = array_to_bytes(cube)


class Labels(models.Model):
    """Stellar parameters of a star from one source (grid truth, ASPCAP, a catalogue)."""

    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="labels")
    source = models.CharField(max_length=64, help_text="'grid', 'aspcap', a catalogue name")
    teff = models.FloatField(null=True, blank=True, help_text="K")
    teff_err = models.FloatField(null=True, blank=True)
    logg = models.FloatField(null=True, blank=True, help_text="dex (cgs)")
    logg_err = models.FloatField(null=True, blank=True)
    fe_h = models.FloatField(null=True, blank=True, help_text="[Fe/H], dex")
    fe_h_err = models.FloatField(null=True, blank=True)
    alpha_fe = models.FloatField(null=True, blank=True, help_text="[α/Fe], dex")
    alpha_fe_err = models.FloatField(null=True, blank=True)
    abundances = models.JSONField(default=dict, blank=True, help_text='{"Mg_Fe": 0.1, ...}, dex')
    abundance_errors = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "labels"
        constraints = [
            models.UniqueConstraint(fields=["star", "source"], name="labels_unique_source"),
            models.CheckConstraint(condition=Q(teff__isnull=True) | Q(teff__gt=0), name="labels_teff_positive"),
        ]
        # Parameter-range searches and filtered twin queries (exact plan) start from these.
        indexes = [models.Index(fields=["source", "teff"], name="labels_source_teff"),
                   models.Index(fields=["source", "logg"], name="labels_source_logg")]

    def __str__(self) -> str:
        return f"{self.star} ({self.source})"


class BHBLabel(models.Model):
    """Whether a catalogue classifies the star as a Blue Horizontal Branch star."""

    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="bhb_labels")
    is_bhb = models.BooleanField()
    catalogue = models.CharField(max_length=64, help_text="e.g. 'xue2011', 'xue2008'")

    class Meta:
        verbose_name = "BHB label"
        constraints = [models.UniqueConstraint(fields=["star", "catalogue"], name="bhblabel_unique_catalogue")]

    def __str__(self) -> str:
        return f"{self.star}: {'BHB' if self.is_bhb else 'non-BHB'} ({self.catalogue})"


class Artifact(models.Model):
    """A model artifact (``ml.artifacts``: weights as state dicts, scalers, config, history) stored
    in the database under its sha256, so that every web process and worker, on any host, loads the
    same bytes (each through its own local cache). Immutable: a version's artifact is never
    rewritten, only replaced by a new row."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    data = models.BinaryField()
    size = models.BigIntegerField(help_text="bytes")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"artifact {self.sha256[:12]} ({self.size:,} bytes)"


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        DISENTANGLER = "disentangler", "Disentangler (chemical twins)"
        BHB = "bhb", "BATMM (BHB classifier)"

    class State(models.TextChoices):
        QUEUED = "queued"
        TRAINING = "training"
        FILLING = "filling"
        READY = "ready"
        ACTIVE = "active"
        FAILED = "failed"
        CANCELLED = "cancelled"
        ARCHIVED = "archived"
        PRUNED = "pruned"  # an archived version past retention: its outputs, index and artifact are gone

    kind = models.CharField(max_length=20, choices=Kind.choices)
    config = models.JSONField(default=dict)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED, db_index=True)
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.CharField(max_length=500, blank=True,
                                help_text="sha256 of the saved weights, scalers and config (an Artifact row)")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    latent_map = models.JSONField(
        default=dict, blank=True,
        help_text="t-SNE of a sample: {spectrum_ids, latent: [[x, y]], raw: [[x, y]]} (disentangler only)",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(state="active"), name="one_active_model_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.pk} ({self.state})"

    def save(self, *args, **kwargs):
        """Save; a new version also gets its partitions of the output tables
        (``catalog.partitions``), in the same transaction."""
        from django.db import connection, transaction

        from catalog import partitions

        adding = self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            if adding:
                with connection.cursor() as cursor:
                    partitions.ensure_all(cursor, self.kind, self.pk)

    @property
    def index_name(self) -> str:
        """The HNSW index on this version's partition of the embeddings (built after the fill)."""
        return f"embedding_hnsw_v{self.pk}"

    @property
    def latest_run(self) -> "TrainingRun | None":
        return self.runs.order_by("-id").first()


class TrainingRun(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        INTERRUPTED = "interrupted"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="runs")
    celery_task_id = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    progress = models.FloatField(default=0.0, help_text="fraction done, 0–1")
    epoch = models.PositiveIntegerField(default=0)
    loss_history = models.JSONField(default=list, blank=True, help_text="[{epoch, train, val, ...}]")
    logs = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds per phase")
    error = models.TextField(blank=True)
    phase = models.CharField(max_length=40, blank=True, help_text="dataset, training, evaluating, filling, …")
    worker = models.CharField(max_length=200, blank=True, help_text="host and pid of the worker that ran it last")
    interruptions = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="run_progress_range"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.model_version}"


class BalmerLines(models.Model):
    """Sérsic fits of Hδ and Hγ in one SDSS spectrum (Xue et al. 2008; ``ml.balmer``), measured when
    the spectrum is ingested (or by ``manage.py measure_balmer`` for spectra stored before).

    A spectrum whose lines cannot be fitted (the continuum windows are not covered, or the continuum
    is not positive) still gets a row: the four values are null and ``problem`` says why, so it is
    never measured again in vain."""

    spectrum = models.OneToOneField(Spectrum, on_delete=models.CASCADE, primary_key=True, related_name="balmer")
    d02 = models.FloatField(null=True, blank=True, help_text="Hδ full width at 20 % below the continuum, Å")
    fm = models.FloatField(null=True, blank=True, help_text="Hδ core flux relative to the continuum")
    c = models.FloatField(null=True, blank=True, help_text="Hγ Sérsic shape")
    b = models.FloatField(null=True, blank=True, help_text="Hγ Sérsic scale width, Å")
    converged = models.BooleanField(default=False, help_text="both Sérsic fits converged")
    xue_bhb = models.BooleanField(null=True, blank=True,
                                  help_text="passes the Xue et al. 2011 Balmer-line cuts (null: not measured)")
    problem = models.CharField(max_length=200, blank=True, help_text="why the lines could not be measured")
    measured_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Balmer-line measurement"
        constraints = [
            models.CheckConstraint(condition=Q(problem="") | Q(d02__isnull=True, fm__isnull=True, c__isnull=True, b__isnull=True),
                                   name="balmer_problem_means_no_values"),
        ]

    def __str__(self) -> str:
        return f"Balmer lines of spectrum {self.spectrum_id}"

    def as_dict(self) -> dict:
        """{d02 (Å), fm, c, b (Å), converged, xue_bhb, problem}."""
        return {"d02": self.d02, "fm": self.fm, "c": self.c, "b": self.b, "converged": self.converged,
                "xue_bhb": self.xue_bhb, "problem": self.problem}


class TapJob(models.Model):
    """An asynchronous TAP query (IVOA UWS 1.1): its ADQL, its phase, and its result VOTable once
    it has run. Jobs are destroyed (deleted) at ``destruction``, or when their owner deletes them."""

    class Phase(models.TextChoices):
        PENDING = "PENDING"
        QUEUED = "QUEUED"
        EXECUTING = "EXECUTING"
        COMPLETED = "COMPLETED"
        ERROR = "ERROR"
        ABORTED = "ABORTED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.PENDING, db_index=True)
    query = models.TextField(help_text="the ADQL as submitted")
    maxrec = models.PositiveIntegerField(help_text="row cap for this job")
    response_format = models.CharField(max_length=20, default="votable")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    destruction = models.DateTimeField(help_text="when the job and its result are deleted")
    execution_duration = models.PositiveIntegerField(help_text="seconds the query may run")
    result = models.JSONField(null=True, blank=True, help_text='{"columns": [[name, type]], "meta": {name: [ucd, unit]}, "rows": [[…]]}')
    n_rows = models.PositiveIntegerField(null=True, blank=True)
    overflow = models.BooleanField(default=False, help_text="MAXREC cut the result")
    error = models.TextField(blank=True, help_text="why the query failed (phase ERROR)")
    uploads = models.JSONField(default=list, blank=True,
                               help_text='tables sent with the query (TAP_UPLOAD): [{"name", "columns": [[name, type]], "rows"}]')

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "TAP job"

    def __str__(self) -> str:
        return f"TAP job {self.pk} ({self.phase})"


# The tables of a version's outputs (latents, scores, groups), partitioned by version.
from catalog.model_outputs import BHBScore, Embedding, GroupMember, Peculiarity  # noqa: E402,F401
