"""Baseline representations: PCA of the spectra, and PolyDis (Price-Jones & Bovy 2019)."""
from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler


def pca_features(train: np.ndarray, other: np.ndarray, n_components: int = 25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """PCA fitted on ``train``; returns (train, other) projections."""
    pca = PCA(n_components=n_components, random_state=seed).fit(train)
    return pca.transform(train).astype(np.float32), pca.transform(other).astype(np.float32)


def _monomials(parameters: np.ndarray, degree: int) -> np.ndarray:
    """All monomials of the (standardised) parameters up to ``degree``, with a constant, (N, M)."""
    columns = [np.ones(len(parameters))]
    n = parameters.shape[1]

    def extend(prefix, start, remaining):
        for k in range(start, n):
            term = prefix * parameters[:, k]
            columns.append(term)
            if remaining > 1:
                extend(term, k, remaining - 1)

    extend(np.ones(len(parameters)), 0, degree)
    return np.stack(columns, axis=1)


class PolynomialResidual:
    """Features minus their least-squares polynomial prediction from the conditional parameters.

    ``fit(features (N, D), parameters (N, K))`` fits every feature column with all monomials of the
    standardised parameters up to ``degree``; ``transform`` returns the residuals (N, D), float64.
    Applied to pixels it is the first step of PolyDis; applied to a latent z it removes whatever
    smooth dependence on Teff and logg the adversary left behind.

    Memory: a grid's flux is large (42,000 × 7214 float32 is 1.2 GB), so neither step makes a
    float64 copy of it. ``fit`` factors the small design matrix (N, M) as QR and accumulates Qᵀ·F
    over blocks of ``chunk`` rows (the same least-squares solution as ``numpy.linalg.lstsq``,
    which would copy F twice in float64), and ``transform`` writes its residuals block by block.
    """

    def __init__(self, degree: int = 3, chunk: int = 4096):
        self.degree, self.chunk = degree, chunk

    def fit(self, features: np.ndarray, parameters: np.ndarray) -> "PolynomialResidual":
        self.scaler = StandardScaler().fit(parameters)
        design = _monomials(self.scaler.transform(parameters), self.degree)  # (N, M)
        q, r = np.linalg.qr(design)
        projected = np.zeros((design.shape[1], features.shape[1]))  # Qᵀ F, (M, D)
        for start in range(0, len(features), self.chunk):
            block = np.asarray(features[start : start + self.chunk], np.float64)
            projected += q[start : start + self.chunk].T @ block
        # ‖D c − F‖² = ‖R c − Qᵀ F‖² + const, so this is D's least-squares solution (the minimum-norm
        # one when a parameter is constant and D has dependent columns, as lstsq would give).
        self.coefficients = np.linalg.lstsq(r, projected, rcond=None)[0]  # (M, D)
        return self

    def predict(self, parameters: np.ndarray) -> np.ndarray:
        """The fitted polynomial at ``parameters`` (N, K): (N, D), float64."""
        return _monomials(self.scaler.transform(parameters), self.degree) @ self.coefficients

    def transform(self, features: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        residual = np.empty(features.shape, np.float64)
        for start in range(0, len(features), self.chunk):
            stop = start + self.chunk
            residual[start:stop] = features[start:stop] - self.predict(parameters[start:stop])
        return residual


class PolyDis:
    """Price-Jones & Bovy (2019): fit every pixel with a polynomial in the conditional parameters
    (Teff, logg), then PCA of the residuals. The residual PCs are the chemical representation;
    ``whiten=True`` scales each PC to unit variance on the training stars, so that the low-variance
    PCs, where much of the chemistry sits, count as much as the first (a stronger twin baseline)."""

    def __init__(self, degree: int = 3, n_components: int = 25, seed: int = 0, whiten: bool = False):
        self.degree, self.n_components, self.seed, self.whiten = degree, n_components, seed, whiten

    def fit(self, flux: np.ndarray, parameters: np.ndarray) -> "PolyDis":
        self.residual = PolynomialResidual(self.degree).fit(flux, parameters)
        # The residuals are a temporary (N, P) float64: let PCA centre them in place rather than copy.
        self.pca = PCA(n_components=self.n_components, whiten=self.whiten, random_state=self.seed, copy=False)
        self.pca.fit(self.residual.transform(flux, parameters))
        self.pca.copy = True  # transform() must never touch the caller's array
        return self

    def transform(self, flux: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        return self.pca.transform(self.residual.transform(flux, parameters)).astype(np.float32)
