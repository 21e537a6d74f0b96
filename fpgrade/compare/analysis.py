"""The comparison of a set of comparable runs: what every table and the report show.

One *entry* per set of predictions: a run, or each seed of a multi-seed run, which also gets a
row "mean over N seeds" (the seeds' figures averaged; its interval is that of the seed-averaged
figure under the same subject resamples). Every entry is evaluated under the same bootstrap
resamples of subjects (one seeded draw for the whole comparison), so the paired differences of
two entries use the same resamples. Paired tests are made between entries of different runs (of two
multi-seed runs, between their runs of the same seed).
The result is plain JSON (``comparison.json``); the statistics are those of
:mod:`fpgrade.compare.statistics`.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np

from fpgrade.compare.loading import Predictions, Run, check_comparable
from fpgrade.compare.statistics import (METRICS, ORDINAL_ONLY, PAIRED, Evaluator, Samples,
                                        bootstrap_weights, confusion, interval, mcnemar,
                                        permutation_test, reliability)

LABELS = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro F1",
    "quadratic_weighted_kappa": "QWK",
    "mean_absolute_grade_error": "MAE (grades)",
    "expected_calibration_error": "ECE",
    "subject_accuracy": "Subject accuracy (per visit)",
}
SYNTHETIC_MARK = "SYNTHETIC data: not a clinical result"


def _labels(runs: list[Run]) -> list[str]:
    """A name per run: the model id, with the folder's name where two runs share a model."""
    counts = Counter(run.model for run in runs)
    return [run.model if counts[run.model] == 1 else f"{run.model} ({run.folder.name})" for run in runs]


def _samples(p: Predictions) -> Samples:
    return Samples.build(p.truth, p.probabilities, p.subjects, p.visits, predicted=p.predicted)


def _figure(value: float | None, low=None, high=None, undefined: int = 0, reason: str | None = None) -> dict:
    if value is None or not np.isfinite(value):
        return {"value": None, "low": None, "high": None, "reason": reason or "undefined"}
    return {"value": float(value), "low": low, "high": high, "undefined_resamples": undefined}


def compare(runs: list[Run], *, ordinal: bool, scale_name: str, resamples: int = 2000, seed: int = 0,
            permutations: int = 2000) -> dict:
    """The comparison of ``runs`` (checked comparable first); ``ordinal`` says whether the scale's
    order means worse (QWK and MAE are computed only then)."""
    check_comparable(runs)
    first = runs[0].seeds[0]
    names = _labels(runs)
    entries = []  # (run index, label, kind: run / seed / mean, its predictions: one, or every seed's)
    for index, (run, name) in enumerate(zip(runs, names)):
        if not run.multi_seed:
            entries.append((index, name, "run", run.seeds))
            continue
        for p in run.seeds:
            entries.append((index, f"{name} (seed {p.seed})", "seed", [p]))
        entries.append((index, f"{name} (mean over {len(run.seeds)} seeds)", "mean", run.seeds))
    samples = {id(p): _samples(p) for run in runs for p in run.seeds}
    reference = samples[id(first)]
    weights = bootstrap_weights(len(reference.subject_names), resamples, seed)
    not_ordinal = f"{scale_name} is not an ordinal scale: QWK and MAE need ordered grades"

    def evaluate(p: Predictions) -> tuple[dict, dict]:
        evaluator = Evaluator(samples[id(p)], ordinal)
        point = evaluator.metrics()
        draws = [evaluator.metrics(w) for w in weights]
        return point, {m: np.array([d[m] for d in draws]) for m in point}

    evaluated = {id(p): evaluate(p) for run in runs for p in run.seeds}
    rows = []
    for index, name, kind, seeds in entries:
        points = [evaluated[id(p)][0] for p in seeds]
        draws = [evaluated[id(p)][1] for p in seeds]
        figures = {}
        for metric in METRICS:
            if metric in ORDINAL_ONLY and not ordinal:
                figures[metric] = _figure(None, reason=not_ordinal)
                continue
            value = float(np.mean([pt[metric] for pt in points]))
            boot = np.mean([d[metric] for d in draws], axis=0)
            low, high, undefined = interval(boot)
            figures[metric] = _figure(value, low, high, undefined,
                                      reason="undefined: the truth and the predictions are all of one "
                                             "class" if metric == "quadratic_weighted_kappa" else None)
        run = runs[index]
        cms = [confusion(p.truth, p.predicted, len(p.classes)) for p in seeds]
        pooled = Samples.build(np.concatenate([p.truth for p in seeds]),
                               np.concatenate([p.probabilities for p in seeds]),
                               np.concatenate([p.subjects for p in seeds]),
                               predicted=np.concatenate([p.predicted for p in seeds]))
        rows.append({
            "label": name, "kind": kind, "model": run.model, "run": str(run.folder),
            "seeds": [p.seed for p in seeds], "synthetic": any(p.synthetic for p in seeds),
            "versions": sorted({v for p in seeds for v in p.versions}),
            "subjects": len(reference.subject_names), "samples": len(first),
            "cases": int(reference.case.max() + 1), "metrics": figures,
            "confusion_matrix": {"labels": list(first.classes),
                                 "counts": np.mean(cms, axis=0).tolist(),
                                 "averaged_over_seeds": len(seeds) if kind == "mean" else None},
            "reliability": reliability(pooled),
        })
    pairs = []
    single = [(index, name, seeds[0]) for index, name, kind, seeds in entries if kind != "mean"]
    paired = [m for m in PAIRED if ordinal or m not in ORDINAL_ONLY]
    for (ia, name_a, a), (ib, name_b, b) in combinations(single, 2):
        if ia == ib:  # two seeds of one run: not a comparison of models
            continue
        if runs[ia].multi_seed and runs[ib].multi_seed and a.seed != b.seed:
            continue  # two multi-seed runs: seed against the same seed
        sa, sb = samples[id(a)], samples[id(b)]
        tests = permutation_test(sa, sb, paired, permutations, seed)
        pair = {"a": name_a, "b": name_b, "samples": len(a), "subjects": len(sa.subject_names),
                "synthetic": a.synthetic or b.synthetic,
                "mcnemar": mcnemar(sa.predicted == sa.truth, sb.predicted == sb.truth)}
        for metric in PAIRED:
            if metric not in paired:
                pair[metric] = _figure(None, reason=not_ordinal)
                continue
            pa, pb = evaluated[id(a)][0][metric], evaluated[id(b)][0][metric]
            low, high, undefined = interval(evaluated[id(a)][1][metric] - evaluated[id(b)][1][metric])
            figure = _figure(pa - pb, low, high, undefined, reason="undefined for one of the models")
            figure["p_permutation"] = tests[metric]["p"]
            figure["undefined_permutations"] = tests[metric]["undefined"]
            pair[metric] = figure
        pairs.append(pair)
    synthetic = any(run.synthetic for run in runs)
    return {
        "scale": first.scale, "protocol": first.protocol, "folds": len(first.folds),
        "ordinal": ordinal, "synthetic": synthetic,
        "subjects": len(reference.subject_names), "samples": len(first),
        "cases": int(reference.case.max() + 1),
        "bootstrap": {"resamples": resamples, "seed": seed, "permutations": permutations},
        "rows": rows, "pairs": pairs, "footnotes": footnotes(resamples, seed, permutations, ordinal,
                                                              not_ordinal, rows, pairs),
        "title": title(first.scale, first.protocol, len(first.folds), len(reference.subject_names),
                       len(first), synthetic),
    }


def title(scale: str, protocol: str, folds: int, subjects: int, samples: int, synthetic: bool) -> str:
    text = (f"Out-of-fold comparison on {scale}, {protocol} ({folds} fold{'s' * (folds != 1)}), "
            f"{subjects} subjects, {samples} samples")
    return f"{text} - {SYNTHETIC_MARK}" if synthetic else text


def footnotes(resamples: int, seed: int, permutations: int, ordinal: bool, not_ordinal: str,
              rows: list[dict], pairs: list[dict]) -> list[str]:
    notes = [
        f"Figures over the pooled out-of-fold test predictions. Brackets: 95 % percentile interval of a "
        f"subject-clustered bootstrap ({resamples} resamples of the subjects with replacement, "
        f"seed {seed}; Davison & Hinkley 1997, Field & Welsh 2007).",
        "Macro F1: mean over the classes present in the truth. ECE: expected calibration error, "
        "15 equal-width confidence bins. Subject accuracy (per visit): one case per subject and "
        "visit, its grade the most common truth, its prediction the most common predicted grade "
        "(a tie: the higher summed probability, then the grade first in the scale).",
        "Paired tests on the same samples: McNemar's test for accuracy (exact binomial when the "
        "discordant pairs b + c < 25, else chi-square with continuity correction; McNemar 1947, "
        "Edwards 1948; it treats samples as independent); for accuracy, macro F1 and QWK a "
        f"permutation test swapping each subject's predictions between the models ({permutations} "
        "permutations, seed {seed}; Noreen 1989), differences A - B with their paired bootstrap "
        "interval. p-values are not adjusted for multiple comparisons.".replace("{seed}", str(seed)),
    ]
    if not ordinal:
        notes.append(f"n/a: {not_ordinal}.")
    if any(r["kind"] == "mean" for r in rows):
        notes.append("Mean over seeds: the seeds' figures averaged; its interval is that of the "
                     "seed-averaged figure under the same subject resamples.")
    for r in rows:
        for metric, f in r["metrics"].items():
            if f["value"] is None and f["reason"] != not_ordinal:
                notes.append(f"n/a: {r['label']}, {LABELS[metric]}: {f['reason']}.")
    for pair in pairs:
        for metric in PAIRED:
            if pair[metric]["value"] is None and pair[metric]["reason"] != not_ordinal:
                notes.append(f"n/a: {pair['a']} - {pair['b']}, {LABELS[metric]}: {pair[metric]['reason']}.")
    undefined = [(r["label"], m) for r in rows for m, f in r["metrics"].items()
                 if f["value"] is not None and f.get("undefined_resamples")]
    for label, metric in undefined:
        notes.append(f"{label}, {LABELS[metric]}: undefined in some resamples (one class only), left "
                     "out of the interval.")
    return notes
