"""The progress and agreement page's handlers (split from :mod:`.labelling_handlers`): the
campaign's progress with per-labeller figures (:mod:`fpgrade.labelling.raters`; over time:
:mod:`fpgrade.labelling.raters_time`), the agreement
statistics with the confusion heat map, and the CSV export of the final labels. Plain functions,
no gradio; each checks the ``view`` permission on the server first."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fpgrade.labelling import agreement as agreement_core
from fpgrade.labelling import campaigns as campaigns_core
from fpgrade.labelling.export import write_csv
from fpgrade.labelling.final import final_labels
from fpgrade.labelling.model import Action
from fpgrade.labelling.raters import labeller_figures
from fpgrade.labelling.raters_time import BLOCK, FINAL, exported_figures, figures_over_time
from fpgrade.labelling.raters_time import write_csv as write_figures_csv
from fpgrade.labelling.users import Account
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade_ui.labelling_handlers import _check, _chosen, safe_stem
from fpgrade_ui.markdown_text import md


def progress(account: Account | None, campaign: int | str | None) -> str:
    """Media per status, what waits for the second check, and per-labeller figures (items,
    median time per item, agreement with the final label: :mod:`fpgrade.labelling.raters`)."""
    with database.session() as session:
        me = _check(session, account, Action.VIEW)
        _chosen(campaign)
        p = campaigns_core.campaign_progress(session, campaign, by=me).as_dict()
        found = campaigns_core.get_campaign(session, campaign)
        figures = labeller_figures(session, found.id, get_registry().scale(found.scale).codes,
                                   by=me)
        weeks = figures_over_time(session, found.id, by=me)
        blocks = figures_over_time(session, found.id, per_items=BLOCK, by=me)
    units = "visits" if p["unit"] == "visit" else "media"
    counted = units if p["media"] != 1 else {"visits": "visit", "media": "medium"}[units]
    lines = [f"### {md(p['campaign'])}: {p['media']} {counted}, {p['assignments_done']} of "
             f"{p['assignments_total']} assignments done", ""]
    if p["unit"] == "visit":
        lines += ["One grade per subject's visit (all its movements side by side); a visit's "
                  "final label is written to each of its media.", ""]
    if p["closed"]:
        lines += [f"**This campaign is closed**: {md(p['closed'])}. Its final labels stay; it "
                  "is off the raters' lists (Admin: 'Reopen campaign').", ""]
    lines += [f"| status | {units} |", "|---|---|"]
    lines += [f"| {status.replace('_', ' ')} | {count} |" for status, count in p["statuses"].items()]
    waiting = p["statuses"].get("awaiting_check", 0)
    if waiting:
        lines += ["", f"{waiting} agreed {units} await the second check (Admin: 'Run the second "
                  "check', or `fpgrade campaign check`); then they become final or go to "
                  "adjudication."]
    lines += ["", "#### Per labeller", "",
              "| rater | items | median time per item | with a final label | agree with it | "
              "Cohen's kappa with it |", "|---|---|---|---|---|---|"]
    lines += [f"| {md(f.rater)} | {f.items} | {_fmt(f.median_seconds, 1, ' s')} | "
              f"{f.with_final} | {_fmt(None if f.accuracy is None else 100 * f.accuracy, 0, '%')}"
              f" | {_fmt(f.kappa, 2)} |" for f in figures]
    if not figures:
        lines.append("| (no blind pass yet) | | | | | |")
    lines += ["", "Time per item: from opening a medium to submitting it. Agreement with the "
              "final label: over the media with a final label (an adjudicated one partly rests "
              "on the same raters)."]
    lines += (over_time_lines(weeks, "week", "week")
              + over_time_lines(blocks, "items", f"{BLOCK} items"))
    return "\n".join(lines)


def over_time_lines(figures: list, period: str, title: str) -> list[str]:
    """A Markdown table of per-labeller figures per period (``[]`` when there is none):
    ``period`` heads its column, ``title`` names it ("per week")."""
    if not figures:
        return []
    others = sorted({name for f in figures for name in f.agreement if name != FINAL})
    head = ["rater", period, "items", "median time", "agree with the final label (n)"]
    head += [f"agree with {md(o)} (n)" for o in others]
    lines = ["", f"#### Per labeller, per {title}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for f in figures:
        cells = [md(f.rater), f.period, str(f.items), _fmt(f.median_seconds, 1, " s")]
        for name in [FINAL, *others]:
            value = f.agreement.get(name)
            cells.append("" if value is None else
                         f"{_fmt(None if value.share is None else 100 * value.share, 0, '%')} "
                         f"({value.n})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _fmt(value: float | None, digits: int = 3, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


@dataclass
class AgreementView:
    text: str
    heatmap: object | None       # RGB array: confusion between the first pair of raters
    report: agreement_core.AgreementReport = field(repr=False, default=None)


def agreement(account: Account | None, campaign: int | str | None) -> AgreementView:
    """Percent agreement per check, Cohen's and quadratic-weighted kappa between passes and
    between raters, Fleiss' kappa, and a confusion heat map between raters."""
    with database.session() as session:
        me = _check(session, account, Action.VIEW)
        _chosen(campaign)
        scale = get_registry().scale(campaigns_core.get_campaign(session, campaign).scale)
        r = agreement_core.campaign_agreement(session, campaign, scale, by=me)
    first, second = r.first_check, r.second_check
    lines = [f"### {md(r.campaign)} ({r.scale})", "",
             f"- First check (blind passes agree): {first['agreed']} of {first['media']} media "
             f"({_fmt(first['percent'], 1, '%')})",
             f"- Second check (asymmetry ranges / model): {second['agree']} agree, "
             f"{second['disagree']} disagree, {second['undecided']} undecided "
             f"({_fmt(second['percent'], 1, '%')} agree)",
             f"- Fleiss' kappa over the media with every blind pass: {_fmt(r.fleiss_kappa)} "
             f"({r.raters} raters)", "",
             "| between | n | % agree | Cohen's kappa | quadratic-weighted kappa |",
             "|---|---|---|---|---|"]
    for p in filter(None, [r.between_passes, *r.between_raters]):
        lines.append(f"| {md(p.first)} / {md(p.second)} | {p.n} | {_fmt(p.percent, 1, '%')} | "
                     f"{_fmt(p.kappa)} | {_fmt(p.weighted_kappa)} |")
    if r.model:
        lines += ["", "| model version | suggestions shown | accepted |", "|---|---|---|"]
        lines += [f"| `{v}` | {e['shown']} | {e['accepted']} ({e['percent_accepted']:.0f}%) |"
                  for v, e in r.model.items()]
    pairs = r.between_raters or ([r.between_passes] if r.between_passes else [])
    heatmap = confusion_heatmap(pairs[0], r.labels) if pairs else None
    if heatmap is None:
        lines += ["", "No medium labelled by two raters yet: no heat map."]
    return AgreementView("\n".join(lines), heatmap, r)


def confusion_heatmap(pair: agreement_core.PairAgreement, labels) -> object:
    """The confusion matrix of two raters as an RGB image (rows: first rater)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = np.asarray(pair.confusion)
    fig = Figure(figsize=(1.2 + 0.55 * len(labels), 1.0 + 0.5 * len(labels)), dpi=110)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(pair.second)
    ax.set_ylabel(pair.first)
    ax.set_title(f"{pair.first} vs {pair.second} (n={pair.n})")
    top = matrix.max() or 1
    for (i, j), value in np.ndenumerate(matrix):
        if value:
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > top / 2 else "black")
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def export_csv(account: Account | None, campaign: int | str | None,
               folder: str | None = None) -> tuple[str, int]:
    """The campaign's final labels with provenance as a CSV file (path, rows)."""
    with database.session() as session:
        _check(session, account, Action.VIEW)
        _chosen(campaign)
        found = campaigns_core.get_campaign(session, campaign)
        records = final_labels(session, campaign_id=found.id)
        name, found_id = found.name, found.id
    folder = folder or tempfile.mkdtemp(prefix="fpgrade-label-",
                                        dir=os.environ.get("GRADIO_TEMP_DIR"))
    path = Path(folder) / f"final_labels_{found_id}_{safe_stem(name)}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        count = write_csv(records, handle)
    return str(path), count


def export_figures_csv(account: Account | None, campaign: int | str | None,
                       folder: str | None = None) -> tuple[str, int]:
    """The campaign's per-labeller figures per week and per block of :data:`BLOCK` items, and
    agreement with the final label and each other rater, as a CSV file (path, rows)."""
    with database.session() as session:
        me = _check(session, account, Action.VIEW)
        _chosen(campaign)
        found = campaigns_core.get_campaign(session, campaign)
        figures = exported_figures(session, found.id, by=me)
        name, found_id = found.name, found.id
    folder = folder or tempfile.mkdtemp(prefix="fpgrade-label-",
                                        dir=os.environ.get("GRADIO_TEMP_DIR"))
    path = Path(folder) / f"labeller_figures_{found_id}_{safe_stem(name)}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        count = write_figures_csv(figures, handle)
    return str(path), count
