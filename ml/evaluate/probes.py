"""R² probes: how much of a parameter a representation still carries (the seed's Tables 2–5)."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler


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
