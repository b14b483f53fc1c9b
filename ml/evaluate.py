"""Evaluation of representations: R² probes, chemical-twin metrics, baselines, t-SNE maps.

All functions take plain arrays: features (N, D), labels (N,), groups (N,) (the chemical-profile
id of a synthetic grid: stars with the same group are true twins).
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

# ----------------------------------------------------------------------------- R² probes


def r2_probe(train_features: np.ndarray, train_target: np.ndarray, test_features: np.ndarray,
             test_target: np.ndarray, repetitions: int = 3, seed: int = 0, hidden: tuple[int, ...] = (64, 64),
             max_iter: int = 300) -> float:
    """Median test R² of MLP regressors (``repetitions`` seeds) predicting ``target`` from features.

    Features and target are standardised on the training split. This is the seed's probe: a high
    R² means the representation still carries the parameter.
    """
    scaler = StandardScaler().fit(train_features)
    x_train, x_test = scaler.transform(train_features), scaler.transform(test_features)
    mean, std = float(np.mean(train_target)), float(np.std(train_target)) or 1.0
    scores = []
    for repetition in range(repetitions):
        model = MLPRegressor(hidden_layer_sizes=hidden, max_iter=max_iter, early_stopping=True,
                             random_state=seed + repetition, learning_rate_init=1e-3)
        model.fit(x_train, (train_target - mean) / std)
        scores.append(r2_score(test_target, model.predict(x_test) * std + mean))
    return float(np.median(scores))


def r2_table(representations: dict[str, tuple[np.ndarray, np.ndarray]], targets: dict[str, tuple[np.ndarray, np.ndarray]],
             repetitions: int = 3, seed: int = 0) -> dict[str, dict[str, float]]:
    """{representation: {parameter: R²}}; every representation uses the same train/test rows."""
    return {name: {parameter: r2_probe(train, y_train, test, y_test, repetitions, seed)
                   for parameter, (y_train, y_test) in targets.items()}
            for name, (train, test) in representations.items()}


# ----------------------------------------------------------------------------- twin metrics


def _row_distances(features: torch.Tensor, first: torch.Tensor, second: torch.Tensor, chunk: int) -> torch.Tensor:
    """‖features[first[i]] − features[second[i]]‖ for every i, ``chunk`` pairs at a time: on raw
    spectra (7214 pixels) 200,000 pairs at once would be a 5.8 GB difference array."""
    return torch.cat([(features[first[start : start + chunk]] - features[second[start : start + chunk]]).norm(dim=1)
                      for start in range(0, len(first), chunk)] or [torch.zeros(0)])


def twin_metrics(features: np.ndarray, groups: np.ndarray, n_pairs: int = 200_000, seed: int = 0,
                 chunk: int = 2048) -> dict[str, float]:
    """How well Euclidean distance in ``features`` finds chemical twins.

    For every star with at least one twin: rank = the number of non-twins at most as far as its
    nearest true twin (ties count against the representation, so a constant latent ranks every
    twin last, not first). Reports recall@1 (rank 0), recall@10 (rank < 10), the median and mean
    rank, and the pairwise AUC = P(d(star, random twin) < d(star, random non-twin)).
    """
    features = torch.as_tensor(np.asarray(features, dtype=np.float32))
    groups = torch.as_tensor(np.asarray(groups))
    n = len(features)
    ranks = []
    for start in range(0, n, chunk):
        block = features[start : start + chunk]
        distance = torch.cdist(block, features)  # (b, N)
        rows = torch.arange(len(block))
        distance[rows, start + rows] = float("inf")  # not its own twin
        same = groups[start : start + chunk, None] == groups[None, :]
        same[rows, start + rows] = False
        has_twin = same.any(dim=1)
        nearest_twin = torch.where(same, distance, torch.full_like(distance, float("inf"))).min(dim=1).values
        closer = ((distance <= nearest_twin[:, None]) & ~same).sum(dim=1)
        ranks.append(closer[has_twin])
    rank = torch.cat(ranks).double()
    if len(rank) == 0:
        raise ValueError("no star has a twin in this set")
    # Pairwise AUC from random (star, twin, non-twin) triples.
    generator = torch.Generator().manual_seed(seed)
    order = torch.argsort(groups)
    sorted_groups = groups[order]
    first = torch.searchsorted(sorted_groups, sorted_groups, right=False)
    last = torch.searchsorted(sorted_groups, sorted_groups, right=True)
    anchor_pos = torch.randint(0, n, (n_pairs,), generator=generator)
    size = last[anchor_pos] - first[anchor_pos]
    valid = size > 1
    anchor_pos, size = anchor_pos[valid], size[valid]
    offset = (torch.rand(len(anchor_pos), generator=generator) * (size - 1)).long()
    twin_pos = first[anchor_pos] + offset
    twin_pos = twin_pos + (twin_pos >= anchor_pos).long()  # skip the anchor itself
    other = torch.randint(0, n, (len(anchor_pos),), generator=generator)
    keep = groups[order[other]] != sorted_groups[anchor_pos]
    anchor, twin, other = order[anchor_pos][keep], order[twin_pos][keep], order[other][keep]
    d_twin, d_other = _row_distances(features, anchor, twin, chunk), _row_distances(features, anchor, other, chunk)
    auc = float(((d_twin < d_other).double() + 0.5 * (d_twin == d_other).double()).mean())
    return {"recall_at_1": float((rank == 0).double().mean()), "recall_at_10": float((rank < 10).double().mean()),
            "median_rank": float(rank.median()), "mean_rank": float(rank.mean()), "pairwise_auc": auc,
            "n_stars": int(len(rank))}


# ----------------------------------------------------------------------------- generation


def twin_generation_error(flux: np.ndarray, error: np.ndarray | None, parameters: np.ndarray, groups: np.ndarray,
                          rows: np.ndarray, predictors: dict, n_pairs: int = 3000, seed: int = 0) -> dict[str, float]:
    """How well a star's spectrum at its twin's parameters can be predicted from the star alone.

    Random twin pairs (a, b) are drawn among ``rows``. Each predictor, ``name → (predict, noisy)``,
    gets the index arrays (a, b) and returns (n, P): its guess at star b's spectrum from star a's
    spectrum and b's parameters (a disentangler's D(z_a, cp_b), say). Its score is the RMS
    difference from b's observed flux, in flux units, with the noise taken out in quadrature: b's
    (from ``error`` (N, P) 1σ; none when ``error`` is None) and, for predictors flagged ``noisy``
    (those that pass a's own pixels through), a's too. Two reference rows come first:

    * ``"twin as observed"``: star a's own spectrum (how far apart Teff and logg put twins);
    * ``"another star at the same parameters"``: for each b, the star of another profile whose
      parameters (standardised) are nearest to b's; on a grid, the same grid point. This is the size
      of the chemical signal: a prediction about as far off as this cannot tell twins apart.

    flux (N, P), parameters (N, C), groups (N,) profile ids. Returns {name: RMS}.
    """
    rng = np.random.default_rng(seed)
    rows = np.asarray(rows)
    row_groups = groups[rows]
    labels, counts = np.unique(row_groups, return_counts=True)
    with_twin = rows[np.isin(row_groups, labels[counts > 1])]
    if len(with_twin) == 0:
        raise ValueError("no star among these rows has a twin")
    a = rng.choice(with_twin, size=n_pairs)
    b = np.array([rng.choice(rows[(row_groups == groups[k]) & (rows != k)]) for k in a])
    scaled = StandardScaler().fit_transform(parameters[rows])
    position = {int(k): i for i, k in enumerate(rows)}
    other = np.empty_like(b)
    for i, k in enumerate(b):
        distance = ((scaled - scaled[position[int(k)]]) ** 2).sum(axis=1)
        distance[row_groups == groups[k]] = np.inf
        other[i] = rows[np.argmin(distance)]
    observed = np.asarray(flux[b], np.float64)
    noise = {name: 0.0 if error is None else float(np.mean(np.square(np.asarray(error[index], np.float64))))
             for name, index in (("a", a), ("b", b), ("other", other))}  # mean variance per pixel

    def rms(predicted: np.ndarray, carried: float) -> float:
        squared = float(np.mean(np.square(np.asarray(predicted, np.float64) - observed))) - noise["b"] - carried
        return float(np.sqrt(max(squared, 0.0)))

    result = {"twin as observed": rms(flux[a], noise["a"]),
              "another star at the same parameters": rms(flux[other], noise["other"])}
    for name, (predict, noisy) in predictors.items():
        result[name] = rms(predict(a, b), noise["a"] if noisy else 0.0)
    return result


# ----------------------------------------------------------------------------- baselines


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


# ----------------------------------------------------------------------------- maps


def collapsed(features: np.ndarray) -> bool:
    """True when every row (N, D) is the same point, as in a latent that an over-strong adversary
    has squeezed to a constant: there is nothing to map or rank."""
    features = np.asarray(features, dtype=np.float64)
    if len(features) < 2:
        return True
    spread = features.max(axis=0) - features.min(axis=0)
    return not bool(np.any(spread > 1e-9 * (1.0 + np.abs(features).max())))


def tsne_map(features: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-d t-SNE coordinates (N, 2) of standardised features (scikit-learn, Barnes–Hut).

    A collapsed representation maps every star to (0, 0): scikit-learn's Barnes–Hut code crashes
    the interpreter (segmentation fault) on identical points, which would lose a whole report.
    """
    if collapsed(features):
        return np.zeros((len(features), 2), dtype=np.float32)
    from sklearn.manifold import TSNE

    scaled = StandardScaler().fit_transform(features)
    perplexity = min(perplexity, max(5.0, (len(features) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(scaled).astype(np.float32)
