"""The BHB report states the issue's targets as paired, seed-by-seed comparisons."""
import numpy as np
import pytest

from research.experiments.bhb import _target_lines, paired_differences


def _seed(**f1):
    return {method.replace("_", " "): {"f1_macro": value} for method, value in f1.items()}


PER_SEED = [
    {**_seed(BATMM=0.90, early_add=0.88), "SVM (spectrum)": {"f1_macro": 0.93}, "VGG1D (spectrum)": {"f1_macro": 0.89}},
    {**_seed(BATMM=0.92, early_add=0.91), "SVM (spectrum)": {"f1_macro": 0.91}, "VGG1D (spectrum)": {"f1_macro": 0.90}},
]


def test_paired_differences_are_taken_seed_by_seed():
    assert paired_differences(PER_SEED, "BATMM", "SVM (spectrum)") == pytest.approx(np.array([-0.03, 0.01]))


def test_target_table_counts_wins_and_names_the_best_of_each_kind():
    lines = _target_lines(PER_SEED)
    svm = next(line for line in lines if line.startswith("| BATMM − SVM"))
    assert "-0.0100 ± 0.0283" in svm and "1 / 2" in svm
    add = next(line for line in lines if line.startswith("| BATMM − early add"))
    assert "+0.0150" in add and "2 / 2" in add
    assert any("best multimodal − best spectrum-only: BATMM − SVM (spectrum)" in line for line in lines)


def test_no_target_table_without_batmm():
    assert _target_lines([{"SVM (spectrum)": {"f1_macro": 0.9}}]) == []
