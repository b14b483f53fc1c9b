"""How a BHB hunter reads a classifier: purity (precision) and completeness (recall) by g magnitude,
and the score threshold that reaches a given purity."""
from __future__ import annotations

import numpy as np

MAGNITUDE_EDGES = (17.0, 18.0, 19.0)  # g bins: < 17, 17–18, 18–19, > 19 (PSF mag)


def _purity_completeness(labels: np.ndarray, chosen: np.ndarray) -> dict:
    true_positive = int(np.sum(chosen & (labels == 1)))
    selected, bhb = int(chosen.sum()), int(np.sum(labels == 1))
    purity = true_positive / selected if selected else None
    completeness = true_positive / bhb if bhb else None
    f1 = (2 * purity * completeness / (purity + completeness)
          if purity is not None and completeness is not None and purity + completeness > 0 else None)
    return {"n": int(len(labels)), "n_bhb": bhb, "selected": selected, "purity": purity, "completeness": completeness,
            "f1": f1}


def by_magnitude(labels: np.ndarray, score: np.ndarray, g_mag: np.ndarray, threshold: float = 0.5,
                 edges: tuple[float, ...] = MAGNITUDE_EDGES) -> list[dict]:
    """One row per g-magnitude bin (and one for all): purity, completeness and F1 of the BHB class
    among stars with score ≥ ``threshold``. labels (N,) 1 = BHB; score (N,) P(BHB); g_mag (N,)."""
    labels, score, g_mag = np.asarray(labels).astype(int), np.asarray(score, np.float64), np.asarray(g_mag, np.float64)
    bounds = (-np.inf, *edges, np.inf)
    rows = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        inside = (g_mag >= low) & (g_mag < high)
        name = f"g < {high:g}" if low == -np.inf else (f"g > {low:g}" if high == np.inf else f"{low:g}–{high:g}")
        rows.append({"bin": name, **_purity_completeness(labels[inside], score[inside] >= threshold)})
    rows.append({"bin": "all", **_purity_completeness(labels, score >= threshold)})
    return rows


def threshold_for_purity(labels: np.ndarray, score: np.ndarray, purity: float = 0.95) -> dict:
    """The lowest score threshold whose selection (score ≥ it) is at least ``purity`` pure, and the
    completeness it keeps (the most of any threshold that pure); ``threshold`` None when none is."""
    labels, score = np.asarray(labels).astype(int), np.asarray(score, np.float64)
    thresholds = np.unique(score)  # ascending
    order = np.sort(score)
    selected = len(score) - np.searchsorted(order, thresholds, side="left")  # stars with score ≥ t
    bhb_scores = np.sort(score[labels == 1])
    true_positive = len(bhb_scores) - np.searchsorted(bhb_scores, thresholds, side="left")
    pure = np.flatnonzero(true_positive >= purity * selected)
    if len(pure) == 0 or not len(bhb_scores):
        return {"purity_target": purity, "threshold": None, "purity": None, "completeness": None}
    k = pure[0]
    return {"purity_target": purity, "threshold": float(thresholds[k]), "purity": float(true_positive[k] / selected[k]),
            "completeness": float(true_positive[k] / len(bhb_scores))}


def xue_selection(spectra: np.ndarray, errors: np.ndarray | None = None,
                  wavelength: np.ndarray | None = None) -> tuple[np.ndarray, list]:
    """The Xue et al. 2011 Balmer-line cuts measured on the spectra themselves, for comparison:
    (N,) 1.0 where they select the star (else 0.0), and the N ``ml.balmer`` measurements. spectra
    and errors (N, P) on ``wavelength`` (default: the SDSS grid, 3522 px)."""
    from ml.balmer import measure, xue_cuts
    from ml.surveys import sdss_wavelength

    wavelength = sdss_wavelength() if wavelength is None else wavelength
    measured = [measure(wavelength, flux, None if errors is None else errors[k])
                for k, flux in enumerate(np.asarray(spectra, np.float64))]
    return np.array([float(xue_cuts(m)) for m in measured]), measured
