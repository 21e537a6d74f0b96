"""The comparison as tables: Markdown (printed, ``table.md``), CSV (``table.csv`` for the models,
``pairs.csv`` for the paired tests, full precision, one column per figure) and LaTeX with booktabs
(``table.tex``). Every table's title line carries the SYNTHETIC mark when any run is synthetic,
and every table has a ``synthetic`` column; a figure that cannot be computed reads "n/a", its
reason in a footnote."""

from __future__ import annotations

import csv
import io

from fpgrade.compare.analysis import LABELS
from fpgrade.compare.statistics import METRICS, PAIRED

NA = "n/a"


def number(value: float | None, digits: int = 3) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def p_value(p: float | None) -> str:
    if p is None:
        return NA
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def with_interval(figure: dict, sign: bool = False) -> str:
    if figure["value"] is None:
        return NA
    fmt = "+.3f" if sign else ".3f"
    value = f"{figure['value']:{fmt}}"
    if figure["low"] is None:
        return value
    return f"{value} [{figure['low']:{fmt}}, {figure['high']:{fmt}}]"


def _yes(flag: bool) -> str:
    return "SYNTHETIC" if flag else "no"


def model_table(comparison: dict) -> tuple[list[str], list[list[str]]]:
    header = ["Model", "Subjects", "Samples", "Subject visits",
              *[f"{LABELS[m]} [95% CI]" for m in METRICS], "Synthetic"]
    rows = [[r["label"], str(r["subjects"]), str(r["samples"]), str(r["cases"]),
             *[with_interval(r["metrics"][m]) for m in METRICS], _yes(r["synthetic"])]
            for r in comparison["rows"]]
    return header, rows


def pair_table(comparison: dict) -> tuple[list[str], list[list[str]]]:
    header = ["Model A", "Model B", "Subjects", "Samples", "Δ Accuracy (A - B) [95% CI]",
              "McNemar b / c", "McNemar p", "Accuracy p (perm.)", "Δ Macro F1 [95% CI]",
              "Macro F1 p (perm.)", "Δ QWK [95% CI]", "QWK p (perm.)", "Synthetic"]
    rows = []
    for pair in comparison["pairs"]:
        m = pair["mcnemar"]
        rows.append([pair["a"], pair["b"], str(pair["subjects"]), str(pair["samples"]),
                     with_interval(pair["accuracy"], sign=True), f"{m['b']} / {m['c']}",
                     f"{p_value(m['p'])} ({m['method']})", p_value(pair["accuracy"].get("p_permutation")),
                     with_interval(pair["macro_f1"], sign=True), p_value(pair["macro_f1"].get("p_permutation")),
                     with_interval(pair["quadratic_weighted_kappa"], sign=True),
                     p_value(pair["quadratic_weighted_kappa"].get("p_permutation")),
                     _yes(pair["synthetic"])])
    return header, rows


def _markdown_rows(header: list[str], rows: list[list[str]], left: int) -> list[str]:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "|".join(":---" if i < left else "---:" for i in range(len(header))) + "|",
            *map(line, rows)]


def markdown(comparison: dict) -> str:
    lines = [f"**{comparison['title']}**", "", *_markdown_rows(*model_table(comparison), 1), ""]
    if comparison["pairs"]:
        lines += [f"**Paired tests - {comparison['title']}**", "", *_markdown_rows(*pair_table(comparison), 2), ""]
    lines += [f"{i}. {note}" for i, note in enumerate(comparison["footnotes"], 1)]
    return "\n".join(lines) + "\n"


def _csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cells(figure: dict) -> list:
    return [figure["value"], figure.get("low"), figure.get("high"), figure.get("reason", "")]


def models_csv(comparison: dict) -> str:
    header = ["model", "label", "kind", "seeds", "run", "synthetic", "subjects", "samples", "subject_visits"]
    for metric in METRICS:
        header += [metric, f"{metric}_low", f"{metric}_high", f"{metric}_note"]
    rows = [[r["model"], r["label"], r["kind"], " ".join(map(str, r["seeds"])), r["run"],
             str(r["synthetic"]).lower(), r["subjects"], r["samples"], r["cases"],
             *[c for m in METRICS for c in _cells(r["metrics"][m])]] for r in comparison["rows"]]
    return _csv(header, rows)


def pairs_csv(comparison: dict) -> str:
    header = ["model_a", "model_b", "synthetic", "subjects", "samples", "mcnemar_b", "mcnemar_c",
              "mcnemar_statistic", "mcnemar_p", "mcnemar_method"]
    for metric in PAIRED:
        header += [f"{metric}_difference", f"{metric}_low", f"{metric}_high", f"{metric}_note",
                   f"{metric}_p_permutation"]
    rows = []
    for pair in comparison["pairs"]:
        m = pair["mcnemar"]
        rows.append([pair["a"], pair["b"], str(pair["synthetic"]).lower(), pair["subjects"], pair["samples"],
                     m["b"], m["c"], m["statistic"], m["p"], m["method"],
                     *[c for metric in PAIRED for c in (*_cells(pair[metric]),
                                                        pair[metric].get("p_permutation"))]])
    return _csv(header, rows)


LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                 "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                 "Δ": r"$\Delta$", "<": r"$<$"}


def tex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _tex_table(caption: str, header: list[str], rows: list[list[str]], label: str, left: int) -> list[str]:
    spec = "l" * left + "r" * (len(header) - left)
    return [r"\begin{table}[htbp]", r"\centering", r"\scriptsize", rf"\caption{{{tex_escape(caption)}}}",
            rf"\label{{{label}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
            " & ".join(tex_escape(h) for h in header) + r" \\", r"\midrule",
            *[" & ".join(tex_escape(c) for c in row) + r" \\" for row in rows],
            r"\bottomrule", r"\end{tabular}"]


def latex(comparison: dict) -> str:
    """Both tables for a paper (needs ``\\usepackage{booktabs}``); the footnotes under the first."""
    lines = ["% fpgrade compare: needs \\usepackage{booktabs}",
             *_tex_table(comparison["title"], *model_table(comparison), "tab:compare-models", 1)]
    lines += [r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize"]
    lines += [rf"{i}. {tex_escape(note)}\par" for i, note in enumerate(comparison["footnotes"], 1)]
    lines += [r"\end{minipage}", r"\end{table}", ""]
    if comparison["pairs"]:
        lines += [*_tex_table(f"Paired tests - {comparison['title']}", *pair_table(comparison),
                              "tab:compare-pairs", 2), r"\end{table}", ""]
    return "\n".join(lines)
