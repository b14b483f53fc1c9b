"""The supervised ceiling: what a twin representation could reach if it were told the chemistry.

A ridge regression from the spectrum (its leading principal components, and each component times
Teff and logg, so that a line's strength may be read differently at each temperature and gravity)
plus a quadratic in Teff and logg, to the chemistry labels. It is trained on half of the chemical
profiles and applied to the other half, and the other way round, so no star's prediction has seen
its own profile. The predicted labels, used as a representation, say what the data allow.
"""
from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

ALPHAS = np.logspace(-3, 4, 15)


def _design(components: np.ndarray, teff_logg: np.ndarray) -> np.ndarray:
    """[PCs, PCs·t, PCs·g, t, g, t², g², t·g] of standardised PCs (N, K) and (t, g) (N, 2)."""
    t, g = teff_logg[:, :1], teff_logg[:, 1:2]
    return np.hstack([components, components * t, components * g, t, g, t * t, g * g, t * g])


def supervised_ceiling(flux: np.ndarray, teff_logg: np.ndarray, groups: np.ndarray, chemistry: np.ndarray,
                       n_components: int = 50, max_fit_rows: int = 20_000, seed: int = 0) -> np.ndarray:
    """Cross-fitted chemistry predictions (N, K), in units of each label's σ.

    flux (N, P) normalised spectra; teff_logg (N, 2) K and dex; groups (N,) profile ids (at least
    two profiles); chemistry (N, K) labels ([Fe/H], [X/Fe], … in dex; finite). Each half's PCA and
    ridge are fitted on at most ``max_fit_rows`` of its stars (drawn with ``seed``)."""
    flux, chemistry = np.asarray(flux, np.float32), np.asarray(chemistry, np.float64)
    teff_logg, groups = np.asarray(teff_logg, np.float64), np.asarray(groups)
    if chemistry.ndim == 1:
        chemistry = chemistry[:, None]
    if not np.isfinite(chemistry).all():
        raise ValueError("the chemistry labels must be finite")
    profiles = np.unique(groups)
    if len(profiles) < 2:
        raise ValueError("the ceiling needs at least two chemical profiles")
    rng = np.random.default_rng(seed)
    half_a = rng.permutation(profiles)[: len(profiles) // 2]
    in_a = np.isin(groups, half_a)
    predicted = np.empty(chemistry.shape, np.float64)
    for train, apply in ((in_a, ~in_a), (~in_a, in_a)):
        rows = np.flatnonzero(train)
        if len(rows) > max_fit_rows:
            rows = np.sort(rng.choice(rows, max_fit_rows, replace=False))
        k = min(n_components, len(rows) - 1, flux.shape[1])
        pca = PCA(n_components=k, random_state=seed).fit(flux[rows])
        parameters = StandardScaler().fit(teff_logg[rows])
        components = StandardScaler().fit(pca.transform(flux[rows]))
        design = lambda index: _design(components.transform(pca.transform(flux[index])),  # noqa: E731
                                       parameters.transform(teff_logg[index]))
        labels = StandardScaler().fit(chemistry[rows])
        ridge = RidgeCV(alphas=ALPHAS).fit(design(rows), labels.transform(chemistry[rows]))
        target = np.flatnonzero(apply)
        predicted[target] = ridge.predict(design(target)).reshape(len(target), -1)
    return predicted.astype(np.float32)
