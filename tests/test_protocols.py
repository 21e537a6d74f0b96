"""Evaluation protocols: no subject in two sets, the papers' proportions, saved and reused."""

from __future__ import annotations

import pytest

from fpgrade.errors import TrainingError
from fpgrade.training.protocols import load_folds, make_folds, save_folds


def dataset(n_subjects=20, per_subject=3):
    subjects, labels = [], []
    for s in range(n_subjects):
        subjects += [f"S{s:02d}"] * per_subject
        labels += [("N", "L1", "R2", "L3")[s % 4]] * per_subject
    return subjects, labels


def assert_disjoint(folds, all_subjects):
    for fold in folds:
        train, val, test = set(fold.train), set(fold.val), set(fold.test)
        assert not (train & val) and not (train & test) and not (val & test)
        assert train | val | test == set(all_subjects)
        assert val and test and train


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_kfold_tests_every_subject_once(k):
    subjects, labels = dataset(n_subjects=30)
    folds = make_folds(subjects, labels, f"kfold:{k}", seed=1)
    assert len(folds) == k
    assert_disjoint(folds, subjects)
    tested = [s for fold in folds for s in fold.test]
    assert sorted(tested) == sorted(set(subjects))


def test_loso_leaves_one_subject_out():
    subjects, labels = dataset(n_subjects=10)
    folds = make_folds(subjects, labels, "loso")
    assert len(folds) == 10 and all(len(f.test) == 1 and len(f.val) == 1 for f in folds)
    assert_disjoint(folds, subjects)


@pytest.mark.parametrize(("protocol", "sizes"), [("split:7:2:1", (14, 4, 2)), ("subject:4:1:1", (14, 3, 3))])
def test_single_splits_keep_the_papers_proportions(protocol, sizes):
    subjects, labels = dataset(n_subjects=20)
    (fold,) = make_folds(subjects, labels, protocol)
    assert (len(fold.train), len(fold.val), len(fold.test)) == sizes
    assert_disjoint([fold], subjects)


def test_splits_are_reproducible_and_reusable(tmp_path):
    subjects, labels = dataset()
    folds = make_folds(subjects, labels, "kfold:5", seed=3)
    assert folds == make_folds(subjects, labels, "kfold:5", seed=3)
    assert folds != make_folds(subjects, labels, "kfold:5", seed=4)
    save_folds(tmp_path / "splits.json", "kfold:5", 3, folds)
    assert load_folds(tmp_path / "splits.json") == ("kfold:5", folds)


@pytest.mark.parametrize(
    ("protocol", "message"),
    [("kfold:5", "needs at least 7 subjects"), ("loso", "at least 3"), ("holdout", "unknown protocol"),
     ("split:7:2", "expected split:TRAIN:VAL:TEST"), ("kfold:1", "needs K >= 2 folds"),
     ("kfold:0", "needs K >= 2 folds"), ("kfold:x", "a whole number K >= 2"),
     ("split:7:0:1", "must all be above 0")],
)
def test_impossible_protocols_are_refused(protocol, message):
    subjects, labels = dataset(n_subjects=2 if protocol == "loso" else 5)
    with pytest.raises(TrainingError, match=message):
        make_folds(subjects, labels, protocol)


def test_kfold_2_on_24_subjects_leaves_most_of_the_rest_to_train():
    subjects, labels = dataset(n_subjects=24)
    for fold in make_folds(subjects, labels, "kfold:2"):
        assert len(fold.test) == 12 and len(fold.val) == 3 and len(fold.train) == 9


def test_a_damaged_splits_file(tmp_path):
    (tmp_path / "s.json").write_text("{}")
    with pytest.raises(TrainingError, match="not a splits file"):
        load_folds(tmp_path / "s.json")
