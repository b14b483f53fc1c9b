"""The tables of a model version's outputs: latents (Embedding), BHB scores, peculiarity scores and
chemical-group memberships. Each is list-partitioned by model version (``catalog.partitions``):
a version's rows live in their own table, made with the version and dropped when it is pruned.
Imported by ``catalog.models``; import them from there."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from pgvector.django import VectorField

from catalog.models import LATENT_DIM, ModelVersion, Spectrum, Star

# Each version's HNSW graph (pgvector, L2). At 1M clustered 25-d latents ef_construction 256 reaches
# recall@10 1.0 at ef_search 40, where 128 needs 100 for 0.99 (bench/twins.py --graph 24:128);
# m 16 walks as fast or faster than 24 at the same recall, from a graph a fifth smaller built in
# 30 % less time (bench/twins.py --graph 24:256); m 12 walks no faster at the same recall
# (bench/twins.py --graph 12:256). Indexes built before keep their own parameters.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 256


class Embedding(models.Model):
    """The disentangled latent z of one spectrum under one model version (25-d, L2 metric).

    Each version gets its own HNSW index on its partition (``ModelVersion.index_name``, L2,
    ``HNSW_M`` and ``HNSW_EF_CONSTRUCTION``), built once after its embeddings are filled: bulk COPY
    runs without index maintenance, the build is a fast bulk build, and a twin query walks a graph
    of that version only (docs/architecture.md, "Twin search").

    ``teff`` and ``logg`` are the parameters the spectrum was encoded at (the version's label
    source), kept beside the latent so that filtered twin queries never leave this table.
    """

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="embeddings")
    spectrum = models.ForeignKey(Spectrum, on_delete=models.CASCADE, related_name="embeddings")
    vector = VectorField(dimensions=LATENT_DIM)
    teff = models.FloatField(null=True, blank=True, help_text="K, as encoded")
    logg = models.FloatField(null=True, blank=True, help_text="dex, as encoded")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "spectrum"], name="embedding_unique_version_spectrum"),
        ]
        indexes = [models.Index(fields=["model_version", "teff"], name="embedding_version_teff"),
                   models.Index(fields=["model_version", "logg"], name="embedding_version_logg")]

    def __str__(self) -> str:
        return f"z({self.spectrum_id}) v{self.model_version_id}"


class BHBScore(models.Model):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="bhb_scores")
    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="bhb_scores")
    score = models.FloatField(help_text="P(BHB), 0–1")

    class Meta:
        verbose_name = "BHB score"
        constraints = [
            models.UniqueConstraint(fields=["model_version", "star"], name="bhbscore_unique_version_star"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="bhbscore_score_range"),
        ]
        indexes = [models.Index(fields=["model_version", "-score"], name="bhbscore_version_score")]

    def __str__(self) -> str:
        return f"{self.star}: {self.score:.3f}"


class Peculiarity(models.Model):
    """How peculiar one spectrum is under one disentangler version (``ml.peculiar``): how isolated
    what the version's decoder cannot explain in it (its residual, on the version's residual basis)
    is, as its mean distance to its k nearest over the mean of its neighbours' own (1 ordinary,
    larger more isolated). Written for every latent of a version before it can be activated, so
    the ranking switches with the version."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="peculiarities")
    spectrum = models.ForeignKey(Spectrum, on_delete=models.CASCADE, related_name="peculiarities")
    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="peculiarities")
    score = models.FloatField(help_text="residual neighbour distance over the neighbours' own; 1 = ordinary")
    spread = models.FloatField(help_text="mean distance to the k nearest residuals (basis units)")
    teff = models.FloatField(null=True, blank=True, help_text="K, as encoded")
    logg = models.FloatField(null=True, blank=True, help_text="dex, as encoded")

    class Meta:
        verbose_name_plural = "peculiarities"
        constraints = [models.UniqueConstraint(fields=["model_version", "spectrum"], name="peculiarity_unique_version_spectrum")]
        indexes = [models.Index(fields=["model_version", "-score"], name="peculiarity_version_score")]

    def __str__(self) -> str:
        return f"{self.spectrum} under v{self.model_version_id}: {self.score:.2f}"


class GroupMember(models.Model):
    """A spectrum's chemical group under one disentangler version (``ml.groups``: HDBSCAN of the
    version's latents). Stars in no dense region have no row. Written before the version can be
    activated, so the groups switch with it."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="group_members")
    spectrum = models.ForeignKey(Spectrum, on_delete=models.CASCADE, related_name="group_memberships")
    star = models.ForeignKey(Star, on_delete=models.CASCADE, related_name="group_memberships")
    group = models.PositiveIntegerField(help_text="group number within the version, 0 the largest")
    probability = models.FloatField(help_text="membership strength, 0–1 (HDBSCAN)")
    teff = models.FloatField(null=True, blank=True, help_text="K, as encoded")
    logg = models.FloatField(null=True, blank=True, help_text="dex, as encoded")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "spectrum"], name="group_member_unique_version_spectrum")]
        indexes = [models.Index(fields=["model_version", "group"], name="group_member_version_group")]

    def __str__(self) -> str:
        return f"{self.spectrum} in group {self.group} of v{self.model_version_id}"
