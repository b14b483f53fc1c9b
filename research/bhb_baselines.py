"""The baselines of the BATMM paper's tables, on the same splits as BATMM (research only).

* ``classical_baselines``: SVM (RBF) and XGBoost on the min–max-normalised spectra;
* ``xue_baseline``: the Xue et al. 2008 Balmer-line cuts on Sérsic fits (``ml.balmer``);
* ``early_fusion``: "early add" / "early concat", logistic regression on the sum or the
  concatenation of what each of a trained ``BHBTrainer``'s encoders reads;
* ``summarise``: mean ± σ over seeds.

XGBoost is not a dependency of the product: ``pip install -e '.[research]'``.
"""
from __future__ import annotations

import numpy as np
import torch

from ml.batmm import minmax_normalise
from ml.bhb_train import BHBTrainer, metrics


def early_fusion(trainer: BHBTrainer) -> dict:
    """Logistic regression on "early add" (the sum of the two mean tokens, (N, d)) and on "early
    concat" (what each encoder's own classifier reads, side by side: the flattened spectrum
    tokens and the mean image token, (N, 7·d + d)). With the fusion's ``colour_token`` the image
    branch delivers the PSF colours too, so early concat gets them as well (standardised, (N, 7·d
    + d + 5)); early add, a sum of d-vectors, has no place for them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    spectrum_tokens, image_tokens = trainer.tokens["spectrum"], trainer.tokens["image"]
    spectrum, image = trainer.spectrum_head, trainer.image_head
    train, test = trainer.split["train"], trainer.split["test"]
    labels = trainer.labels.numpy()
    out = {}
    parts = [spectrum.features(spectrum_tokens), image.features(image_tokens)]
    if trainer.config.model.colour_token:
        parts.append(trainer.colours)
    concatenated = torch.cat(parts, dim=1)
    for name, features in (("early add", (spectrum_tokens.mean(1) + image_tokens.mean(1)).numpy()),
                           ("early concat", concatenated.numpy())):
        scaler = StandardScaler().fit(features[train])
        classifier = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=trainer.config.seed)
        classifier.fit(scaler.transform(features[train]), labels[train])
        out[name] = metrics(labels[test], classifier.predict_proba(scaler.transform(features[test]))[:, 1])
    return out


def svm_scores(features: np.ndarray, labels: np.ndarray, split: dict, seed: int = 0) -> np.ndarray:
    """The SVM baseline (RBF, C = 10, class-balanced) fitted on the training split; its test-split
    scores in (0, 1), 0.5 at the margin. features (N, k), labels (N,) → (n_test,)."""
    from sklearn.svm import SVC

    train, test = split["train"], split["test"]
    svm = SVC(kernel="rbf", C=10.0, class_weight="balanced", random_state=seed).fit(features[train], labels[train])
    return 1.0 / (1.0 + np.exp(-svm.decision_function(features[test])))


def classical_baselines(spectra: np.ndarray, labels: np.ndarray, split: dict, seed: int = 0) -> dict:
    """SVM (RBF) and XGBoost on min–max-normalised spectra, same splits."""
    try:
        from xgboost import XGBClassifier
    except ImportError:
        raise SystemExit("the XGBoost baseline needs the research extra: pip install -e '.[research]'") from None

    x = minmax_normalise(torch.as_tensor(np.asarray(spectra, np.float32))).numpy()
    train, test = split["train"], split["test"]
    out = {"SVM (spectrum)": metrics(labels[test], svm_scores(x, labels, split, seed))}
    ratio = float((labels[train] == 0).sum() / max(1, (labels[train] == 1).sum()))
    booster = XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.1, subsample=0.8, colsample_bytree=0.3,
                            scale_pos_weight=ratio, random_state=seed, n_jobs=2, tree_method="hist")
    booster.fit(x[train], labels[train])
    out["XGBoost (spectrum)"] = metrics(labels[test], booster.predict_proba(x[test])[:, 1])
    return out


def xue_baseline(wavelength: np.ndarray, spectra: np.ndarray, errors: np.ndarray | None, labels: np.ndarray,
                 index: np.ndarray) -> tuple[dict, list]:
    """The Xue et al. cuts on Sérsic fits of Hδ and Hγ; returns metrics and the measurements."""
    from ml.bhb_report import xue_selection

    selected, measured = xue_selection(spectra[index], None if errors is None else errors[index], wavelength)
    return metrics(labels[index], selected), [m.as_dict() for m in measured]


def summarise(per_seed: list[dict]) -> dict:
    """mean ± σ over seeds for every method and metric (σ: the sample standard deviation, ddof 1;
    0 for a single seed)."""
    summary = {}
    for method in per_seed[0]:
        summary[method] = {}
        for key, value in per_seed[0][method].items():
            if isinstance(value, float):
                values = [run[method][key] for run in per_seed if key in run[method]]
                summary[method][key] = {"mean": float(np.mean(values)),
                                        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}
    return summary
