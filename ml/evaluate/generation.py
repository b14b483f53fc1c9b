"""How well a star's spectrum at its twin's parameters can be predicted from the star alone."""
from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler


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
