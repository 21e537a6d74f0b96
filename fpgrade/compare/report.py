"""One self-contained HTML report of a comparison (``report.html``): the tables and footnotes,
then per model its pooled out-of-fold confusion matrix and its reliability diagram (the bins of
the ECE), images inline as base64 PNG (matplotlib, Agg backend). A multi-seed run shows each
seed and the mean over seeds (confusion counts averaged; reliability over all seeds' predictions
pooled), as the figure titles say."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from fpgrade.compare.tables import model_table, pair_table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
td { white-space: nowrap; }
.scroll { overflow-x: auto; }
th:first-child, td:first-child, table.pairs th:nth-child(2), table.pairs td:nth-child(2) { text-align: left; }
.synthetic { background: #fde2e2; border: 2px solid #b00; padding: 0.5em 1em; font-weight: bold; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } figcaption { font-size: 0.85em; }
ol.notes { font-size: 0.85em; max-width: 70em; }
"""


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def confusion_png(row: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = np.array(row["confusion_matrix"]["counts"])
    averaged = row["confusion_matrix"].get("averaged_over_seeds")
    figure, axes = plt.subplots(figsize=(0.7 * len(counts) + 2.5, 0.7 * len(counts) + 2))
    ConfusionMatrixDisplay(counts, display_labels=row["confusion_matrix"]["labels"]).plot(
        ax=axes, cmap="Blues", colorbar=False, values_format=".1f" if averaged else ".0f")
    what = f"mean over {averaged} seeds" if averaged else "pooled out-of-fold"
    axes.set_title(f"{row['label']}\nconfusion matrix, {what}", fontsize=9)
    axes.set_xlabel("predicted grade")
    axes.set_ylabel("true grade")
    figure.tight_layout()
    return _png(figure)


def reliability_png(row: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = row["reliability"]
    edges = np.array(bins["edges"])
    accuracy = np.array(bins["accuracy"], dtype=float)
    samples = np.array(bins["samples"])
    figure, axes = plt.subplots(figsize=(4.2, 4))
    filled = samples > 0
    axes.bar(edges[:-1][filled], accuracy[filled], width=np.diff(edges)[filled], align="edge",
             edgecolor="#1f4e79", color="#6fa8dc", label="accuracy in bin")
    axes.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    for left, width, acc, n in zip(edges[:-1][filled], np.diff(edges)[filled], accuracy[filled], samples[filled]):
        axes.text(left + width / 2, min(acc, 0.92) + 0.02, str(n), ha="center", fontsize=7)
    ece = row["metrics"]["expected_calibration_error"]["value"]
    seeds = len(row["seeds"])
    what = f"{seeds} seeds pooled" if row["kind"] == "mean" else "out-of-fold"
    axes.set_title(f"{row['label']}\nreliability ({what}), ECE {ece:.3f}", fontsize=9)
    axes.set_xlabel("confidence (15 equal-width bins; numbers: samples)")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left", fontsize=7)
    figure.tight_layout()
    return _png(figure)


def _html_table(header: list[str], rows: list[list[str]], kind: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<div class='scroll'><table class='{kind}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            "</table></div>")


def render(comparison: dict) -> str:
    title = html.escape(comparison["title"])
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
             f"<style>{STYLE}</style></head><body>"]
    if comparison["synthetic"]:
        parts.append("<p class='synthetic'>SYNTHETIC data: these figures are no clinical result and "
                     "belong in no paper's results table.</p>")
    parts.append(f"<h1>Model comparison</h1><h2>{title}</h2>")
    parts.append(_html_table(*model_table(comparison), "models"))
    if comparison["pairs"]:
        parts.append(f"<h2>Paired tests - {title}</h2>")
        parts.append(_html_table(*pair_table(comparison), "pairs"))
    parts.append("<ol class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in comparison["footnotes"])
                 + "</ol>")
    parts.append("<h2>Confusion matrices and reliability diagrams</h2>")
    for row in comparison["rows"]:
        label = html.escape(row["label"])
        parts.append(f"<h3>{label}{' (SYNTHETIC)' if row['synthetic'] else ''}</h3><div class='figures'>")
        for kind, image in (("confusion matrix", confusion_png(row)), ("reliability diagram", reliability_png(row))):
            parts.append(f"<figure><img alt='{label}: {kind}' src='data:image/png;base64,{image}'>"
                         f"<figcaption>{label}: {kind}</figcaption></figure>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
