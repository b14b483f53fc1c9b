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


class Ceiling:
    """The ridge of the supervised ceiling, fitted on one set of stars and applied to another."""

    def __init__(self, n_components: int = 50, max_fit_rows: int = 20_000, seed: int = 0):
        self.n_components, self.max_fit_rows, self.seed = n_components, max_fit_rows, seed

    def fit(self, flux: np.ndarray, teff_logg: np.ndarray, chemistry: np.ndarray) -> "Ceiling":
        """flux (N, P), teff_logg (N, 2) K and dex, chemistry (N, K) dex, finite."""
        chemistry = np.asarray(chemistry, np.float64).reshape(len(flux), -1)
        if not np.isfinite(chemistry).all():
            raise ValueError("the chemistry labels must be finite")
        rows = np.arange(len(flux))
        if len(rows) > self.max_fit_rows:
            rows = np.sort(np.random.default_rng(self.seed).choice(rows, self.max_fit_rows, replace=False))
        k = min(self.n_components, len(rows) - 1, flux.shape[1])
        fit_flux = np.asarray(flux[rows], np.float32)
        self.pca = PCA(n_components=k, random_state=self.seed).fit(fit_flux)
        self.parameters = StandardScaler().fit(np.asarray(teff_logg, np.float64)[rows])
        self.components = StandardScaler().fit(self.pca.transform(fit_flux))
        self.labels = StandardScaler().fit(chemistry[rows])
        self.ridge = RidgeCV(alphas=ALPHAS).fit(self._design(fit_flux, np.asarray(teff_logg, np.float64)[rows]),
                                                self.labels.transform(chemistry[rows]))
        return self

    def _design(self, flux: np.ndarray, teff_logg: np.ndarray) -> np.ndarray:
        return _design(self.components.transform(self.pca.transform(np.asarray(flux, np.float32))),
                       self.parameters.transform(teff_logg))

    def predict(self, flux: np.ndarray, teff_logg: np.ndarray) -> np.ndarray:
        """Predicted chemistry (N, K) in units of each label's σ on the fitted stars."""
        predicted = self.ridge.predict(self._design(flux, np.asarray(teff_logg, np.float64)))
        return predicted.reshape(len(flux), -1).astype(np.float32)


def supervised_ceiling(flux: np.ndarray, teff_logg: np.ndarray, groups: np.ndarray, chemistry: np.ndarray,
                       n_components: int = 50, max_fit_rows: int = 20_000, seed: int = 0) -> np.ndarray:
    """Cross-fitted chemistry predictions (N, K), in units of each label's σ.

    flux (N, P) normalised spectra; teff_logg (N, 2) K and dex; groups (N,) profile ids (at least
    two profiles); chemistry (N, K) labels ([Fe/H], [X/Fe], … in dex; finite). Each half's PCA and
    ridge are fitted on at most ``max_fit_rows`` of its stars (drawn with ``seed``)."""
    chemistry, groups = np.asarray(chemistry, np.float64), np.asarray(groups)
    if chemistry.ndim == 1:
        chemistry = chemistry[:, None]
    if not np.isfinite(chemistry).all():
        raise ValueError("the chemistry labels must be finite")
    profiles = np.unique(groups)
    if len(profiles) < 2:
        raise ValueError("the ceiling needs at least two chemical profiles")
    half_a = np.random.default_rng(seed).permutation(profiles)[: len(profiles) // 2]
    in_a = np.isin(groups, half_a)
    predicted = np.empty(chemistry.shape, np.float32)
    for train, apply in ((in_a, ~in_a), (~in_a, in_a)):
        rows, target = np.flatnonzero(train), np.flatnonzero(apply)
        ceiling = Ceiling(n_components, max_fit_rows, seed).fit(flux[rows], teff_logg[rows], chemistry[rows])
        predicted[target] = ceiling.predict(flux[target], teff_logg[target])
    return predicted
