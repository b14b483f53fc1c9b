"""t-SNE maps of a representation."""
from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler


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
