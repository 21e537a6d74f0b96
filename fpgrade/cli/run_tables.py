"""The text output of ``fpgrade train`` and ``evaluate``: a run's figures as tables, each null
with its reason, the standard deviation's ddof and the SYNTHETIC mark said in words."""

from __future__ import annotations

from rich.table import Table

from fpgrade.cli.console import console
from fpgrade.training.summary import METRICS, STD_DDOF, words

FOLD_COLUMNS = ("accuracy", "macro_f1", "quadratic_weighted_kappa", "mean_absolute_grade_error",
                "expected_calibration_error", "subject_accuracy")


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def summary_table(summary: dict, title: str) -> Table:
    """One row per metric: mean, sample std, and the folds it was computed in."""
    table = Table("metric", "mean", f"std (ddof={summary.get('std_ddof', STD_DDOF)})", "folds",
                  title=title)
    for name in METRICS:
        value = summary.get(name)
        if value is None:
            table.add_row(words(name), "n/a", "n/a", "0")
        else:
            table.add_row(words(name), _number(value["mean"]), _number(value.get("std")),
                          str(value.get("n", "")))
    return table


def folds_table(summary: dict) -> Table:
    table = Table("fold", "samples", *(words(name) for name in FOLD_COLUMNS), title="per fold")
    for fold in summary.get("folds", []):
        table.add_row(str(fold.get("fold")), str(fold.get("samples")),
                      *(_number(fold.get(name)) for name in FOLD_COLUMNS))
    return table


SYNTHETIC_TRAINED = "trained and tested on SYNTHETIC data: not a clinical result"


def notes(summary: dict, synthetic_line: str = SYNTHETIC_TRAINED) -> list[str]:
    """What the tables leave unsaid: why a figure is n/a, what std is, SYNTHETIC."""
    lines = [f"std: sample standard deviation over folds (ddof={summary.get('std_ddof', STD_DDOF)})"]
    for name, reason in (summary.get("null_reasons") or {}).items():
        lines.append(f"{words(name)}: not computed: {reason}")
    for name in METRICS:
        value = summary.get(name) or {}
        if value.get("folds_without"):
            folds = ", ".join(str(f) for f in value["folds_without"])
            lines.append(f"{words(name)}: not computed in fold {folds} ({value['folds_without_reason']})")
        elif value and value.get("std") is None and value.get("std_reason"):
            lines.append(f"{words(name)}: std n/a ({value['std_reason']})")
            break  # one fold: the same for every metric
    if summary.get("predictions_missing_folds"):
        folds = ", ".join(map(str, summary["predictions_missing_folds"]))
        lines.append(f"predictions.csv lacks fold {folds} (tested before predictions were saved): "
                     "`fpgrade evaluate RUN` writes them")
    if summary.get("synthetic"):
        lines.append(synthetic_line)
    return lines


def print_summary(summary: dict, title: str, synthetic_line: str = SYNTHETIC_TRAINED) -> None:
    console.print(summary_table(summary, title))
    if len(summary.get("folds", [])) > 1:
        console.print(folds_table(summary))
    for line in notes(summary, synthetic_line):
        console.print(line, markup=False, highlight=False)


def print_seeds(result: dict, title: str) -> None:
    """``train --seeds``: each metric's mean and sample std over seeds, and every seed's value."""
    ddof = result.get("std_ddof", STD_DDOF)
    seeds = result["seeds"]
    table = Table("metric", "mean", f"std (ddof={ddof})", *(f"seed {s}" for s in seeds), title=title)
    for name in METRICS:
        value = result["metrics"].get(name)
        if value is None:
            table.add_row(words(name), "n/a", "n/a", *("n/a" for _ in seeds))
        else:
            table.add_row(words(name), _number(value["mean"]), _number(value.get("std")),
                          *(_number(v) for v in value["values"]))
    console.print(table)
    lines = [f"each seed's value is its mean over folds; std: sample standard deviation over seeds "
             f"(ddof={ddof}); every seed trained on the same folds"]
    lines += [f"{words(name)}: not computed: {reason}" for name, reason in result.get("null_reasons", {}).items()]
    if len(seeds) <= ddof:
        lines.append("std n/a: a sample standard deviation needs at least two seeds")
    if result.get("synthetic"):
        lines.append(SYNTHETIC_TRAINED)
    for line in lines:
        console.print(line, markup=False, highlight=False)


def print_external(result: dict) -> None:
    """``evaluate --data`` on an external set: the fold ensemble, then each fold model."""
    ensemble = result["ensemble"]
    title = (f"{result['model']} on {result['scale']}: external set {result['data']} "
             f"({result['samples']} samples, {result['subjects']} subjects)")
    table = Table("metric", "fold ensemble", title=title)
    for name, (_, get) in METRICS.items():
        try:
            value = get(ensemble)
        except (KeyError, TypeError):
            value = None
        table.add_row(words(name), _number(value))
    console.print(table)
    console.print(result["combined"], markup=False, highlight=False)
    print_summary(result["fold_models"], "each fold's model on the external set",
                  "SYNTHETIC data (in the weights' training or in this set): not a clinical result")
    if result.get("synthetic") and not result["fold_models"].get("synthetic"):
        console.print("SYNTHETIC data (in the weights' training or in this set): not a clinical result",
                      markup=False, highlight=False)
    console.print(f"written: {result['written']}", markup=False, highlight=False)
