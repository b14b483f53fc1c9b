"""Reads for peculiar stars: a version's latents (to score them) and the ranked list."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from catalog.bulk_copy import read_rows
from catalog.models import ModelVersion, Peculiarity


RANKED = 1.5  # peculiarity from which the star page gives a star's rank


@dataclass
class VersionLatents:
    spectrum_ids: np.ndarray  # (n,) int64, ascending
    star_ids: np.ndarray  # (n,) int64
    latents: np.ndarray  # (n, 25) float32
    teff: np.ndarray  # (n,) K as encoded, NaN unknown
    logg: np.ndarray  # (n,) dex as encoded, NaN unknown


def version_latents(version: ModelVersion) -> VersionLatents:
    """Every latent of the version, by spectrum id (binary COPY: a million rows in seconds)."""
    rows: list = []
    with connection.cursor() as cursor:
        query = cursor.mogrify(
            "SELECT e.spectrum_id, s.star_id, e.vector, e.teff, e.logg FROM catalog_embedding e "
            "JOIN catalog_spectrum s ON s.id = e.spectrum_id WHERE e.model_version_id = %s ORDER BY e.spectrum_id",
            [version.pk]).decode()
        read_rows(cursor.cursor, query, ["int8", "int8", "vector", "float8", "float8"], rows.append)
    number = lambda value: np.nan if value is None else value  # noqa: E731
    return VersionLatents(
        spectrum_ids=np.array([r[0] for r in rows], np.int64), star_ids=np.array([r[1] for r in rows], np.int64),
        latents=np.stack([r[2] for r in rows]) if rows else np.zeros((0, 25), np.float32),
        teff=np.array([number(r[3]) for r in rows], float), logg=np.array([number(r[4]) for r in rows], float))


def peculiar_stars(*, version: ModelVersion | None = None, min_score: float | None = None, survey: str = "",
                   teff: tuple[float | None, float | None] = (None, None),
                   logg: tuple[float | None, float | None] = (None, None)) -> QuerySet:
    """The active (or given) disentangler's spectra, most peculiar first, with star and survey."""
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.DISENTANGLER)
    if version is None:
        return Peculiarity.objects.none()
    rows = Peculiarity.objects.filter(model_version=version).select_related("star", "spectrum__survey")
    if min_score is not None:
        rows = rows.filter(score__gte=min_score)
    if survey:
        rows = rows.filter(spectrum__survey__code=survey)
    for name, (low, high) in (("teff", teff), ("logg", logg)):
        if low is not None:
            rows = rows.filter(**{f"{name}__gte": low})
        if high is not None:
            rows = rows.filter(**{f"{name}__lte": high})
    return rows.order_by("-score", "spectrum_id")


def star_peculiarity(star_id: int, version: ModelVersion | None = None) -> dict | None:
    """{"score", "rank" (None below ``RANKED``), "of", "spectrum_id"} of the star's most peculiar
    spectrum under the active (or given) version; None without scores."""
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.DISENTANGLER)
    if version is None:
        return None
    mine = Peculiarity.objects.filter(model_version=version, star_id=star_id).order_by("-score").first()
    if mine is None:
        return None
    scored = Peculiarity.objects.filter(model_version=version)
    # A version's scores never change once written: their count is counted once (shared cache). The
    # rank walks the (version, -score) index down to the star: cheap near the top, where it
    # matters; an ordinary star (below RANKED) is not ranked, which would walk half the catalog.
    of = cache.get_or_set(f"peculiarity-count-v{version.pk}", scored.count, 24 * 3600)
    rank = scored.filter(score__gt=mine.score).count() + 1 if mine.score >= RANKED else None
    return {"score": mine.score, "spectrum_id": mine.spectrum_id, "of": of, "rank": rank}


def chemical_groups(version: ModelVersion | None = None) -> list[dict]:
    """The active (or given) disentangler's groups, largest first: [{"group", "size", "teff_min",
    "teff_max", "logg_min", "logg_max", "probability" (mean membership)}] (K, dex)."""
    from django.db.models import Avg, Count, Max, Min

    from catalog.models import GroupMember
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.DISENTANGLER)
    if version is None:
        return []
    return list(GroupMember.objects.filter(model_version=version).values("group")
                .annotate(size=Count("id"), teff_min=Min("teff"), teff_max=Max("teff"), logg_min=Min("logg"),
                          logg_max=Max("logg"), probability=Avg("probability")).order_by("group"))


def group_members(group: int, version: ModelVersion | None = None) -> QuerySet:
    """The group's members under the active (or given) version, strongest members first."""
    from catalog.models import GroupMember
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.DISENTANGLER)
    if version is None:
        return GroupMember.objects.none()
    return (GroupMember.objects.filter(model_version=version, group=group).select_related("star", "spectrum__survey")
            .order_by("-probability", "spectrum_id"))


INJECTED = r"^SYN[A-Z]?-\d{3}-\d{4}-\d{4}P$"  # a generated star made peculiar on purpose (generate_grid --peculiar)


def injected_peculiar(*, top: int = 50, version: ModelVersion | None = None) -> dict | None:
    """How many generated stars were made peculiar on purpose, and how many of them are among the
    ``top`` most peculiar spectra: {"injected", "top", "found"}; None when there are none."""
    from catalog.models import Star
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.DISENTANGLER)

    def count() -> dict:  # a scan of every designation: once per version and hour (shared cache)
        injected = Star.objects.filter(designation__regex=INJECTED).count()
        best = peculiar_stars(version=version)[:top] if injected else []
        return {"injected": injected, "top": len(best),
                "found": sum(bool(re.match(INJECTED, row.star.designation)) for row in best)}

    result = cache.get_or_set(f"peculiar-injected-v{version.pk if version else 0}-{top}", count, 3600)
    return result if result["injected"] else None
