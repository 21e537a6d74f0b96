"""What the clinician page says in words: the notes on the photos, the eFACE and Sunnybrook
scores with their ranges and normal values, and the trained models' grades (one per scale for
the set, and each photo's). Plain functions (no gradio)."""

from __future__ import annotations

from collections.abc import Sequence

from fpgrade.clinic import report, set_grades
from fpgrade.clinic.assess import SetResult
from fpgrade.clinic.movements import BY_KEY
from fpgrade.clinic.vocabulary import EFACE_ITEM_RANGE, SCORE_RANGES, scale_words
from fpgrade.registry import get_registry


def eface_scale():
    return get_registry().composite("eface")


def notes_markdown(result: SetResult) -> str:
    """Per-photo problems (bad files, several faces, video frames) and what each missing
    movement would add."""
    lines = [f"- ⚠️ **{result.rest_warning}**"] if result.rest_warning else []
    for p in result.photos:
        label = report.movement_label(p.movement)
        if p.error:
            lines.append(f"- ⚠️ **{label}**: {p.error}")
        for note in p.notes:
            lines.append(f"- **{label}**: {note}")
    graded = [p for p in result.photos if p.ok]
    head = (f"**{len(graded)} of {len(result.photos)} graded.** Healthy side: "
            f"**{result.healthy_side or 'unknown'}** ({result.side_reason}).")
    missing = [f"- *{BY_KEY[k].instruction}* would add {BY_KEY[k].adds}."
               for k in result.missing]
    text = head + ("\n\n" + "\n".join(lines) if lines else "")
    if missing:
        text += "\n\n**Not given:**\n" + "\n".join(missing)
    return text


def eface_markdown(result: SetResult | None, scores: dict,
                   values: Sequence[float | None] | None = None) -> str:
    """The eFACE scores with their range and normal value, and the items left empty and why.
    ``values``: the form's items now (an item the clinician filled is no longer listed as
    empty; one changed from the photos' value says so)."""
    def fmt(v):
        return "not graded" if v is None else f"{v:.0f}"

    ids = [i.id for i in eface_scale().items]
    form = dict(zip(ids, values)) if values is not None else {
        k: v.get("value") for k, v in (result.eface_items if result else {}).items()}
    form = {k: (None if v in (None, "") else float(v)) for k, v in form.items()}
    graded = sum(v is not None for v in form.values())
    value_range, normal, source = SCORE_RANGES[("eface", "total")]
    text = (f"**eFACE scores** ({value_range}, normal {normal}: {source}; items filled from the "
            "measurements, not a trained network): "
            + ", ".join(f"{words} **{fmt(scores.get(key))}**" for key, words in (
                ("static", "at rest (static)"), ("dynamic", "movement (dynamic)"),
                ("synkinesis", "synkinesis"), ("total", "total")))
            + f" ({graded} of {len(ids)} items graded). Each item: {EFACE_ITEM_RANGE[0]}, "
            "100 = like the healthy side, 0 = the worst; an empty box is not graded.")
    if result is not None:
        empty = [f"{eface_scale().item(k).name}: {v['why']}" for k, v in result.eface_items.items()
                 if v.get("value") is None and form.get(k) is None]
        edited = [f"{eface_scale().item(k).name} ({v['value']:.0f} from the photos, "
                  f"{form[k]:.0f} entered)" for k, v in result.eface_items.items()
                  if v.get("value") is not None and form.get(k) is not None
                  and abs(form[k] - v["value"]) >= 0.05]
        edited += [f"{eface_scale().item(k).name} ({form[k]:.0f} entered)"
                   for k, v in result.eface_items.items()
                   if v.get("value") is None and form.get(k) is not None]
        if empty:
            text += "\n\nNot filled from the photos: " + "; ".join(empty) + "."
        if edited:
            text += "\n\nEntered by the clinician: " + "; ".join(edited) + "."
    return text


def grades_markdown(grades: dict) -> str:
    """One grade per scale for the set (the rule stated), or for each scale without a model what
    to do; each photo's grade is in :func:`photo_grades_markdown`."""
    lines = ["These grades come from trained networks; the eFACE scores above do not. "
             f"Grade of the set: the {set_grades.RULE}."]
    for scale, entry in grades.items():
        name = scale_words(scale)
        if entry["status"] != "graded":
            lines.append(f"- **{name}**: {entry['message']}")
            continue
        synthetic = (" — ⚠️ **trained on SYNTHETIC data: a pipeline check, not clinical "
                     "evidence**") if entry.get("synthetic") else ""
        metrics = entry.get("test_metrics") or {}
        shown = ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in metrics.items()
                          if isinstance(v, float)) or "no test metrics recorded"
        combined = set_grades.combine(entry)
        grade = (f"**{set_grades.level_words(scale, combined['label'])}** (probability "
                 f"{combined['probability']:.2f} over {combined['photos']} photo"
                 f"{'s' if combined['photos'] > 1 else ''})") if combined else "no photo graded"
        lines.append(f"- **{name}**: {grade} by `{entry['model_version']}`{synthetic} "
                     f"(test: {shown})")
    return "\n".join(lines)


def photo_grades_markdown(grades: dict) -> str:
    """Every photo's grade by every trained model (one click away on the page)."""
    lines = []
    for scale, entry in grades.items():
        if entry.get("status") != "graded":
            continue
        lines.append(f"**{scale_words(scale)}** (`{entry['model_version']}`)")
        for key, g in entry["photos"].items():
            label = report.movement_label(key)
            if "error" in g:
                lines.append(f"- {label}: ⚠️ {g['error']}")
                continue
            top = sorted(g["probabilities"].items(), key=lambda kv: -kv[1])
            probs = ", ".join(f"{c} {p:.2f}" for c, p in top)
            side = f", side **{g['side']}**" if g.get("side") else ""
            unsure = " (unsure)" if g.get("unsure") else ""
            lines.append(f"- {label}: **{set_grades.level_words(scale, g['label'])}**{unsure}"
                         f"{side} — {probs}")
    return "\n".join(lines) or "No trained model graded these photos."


def sunnybrook_markdown(form: dict) -> str:
    s = form["scores"]

    def fmt(key):
        value_range, normal, _ = SCORE_RANGES[("sunnybrook", key)]
        shown = "not graded yet" if s[key] is None else f"**{s[key]:g}**"
        return f"{shown} ({value_range}, normal {normal})"

    return (f"**Sunnybrook** (entered by the clinician; Ross et al. 1996): resting symmetry "
            f"{fmt('resting')}, voluntary movement {fmt('voluntary')}, synkinesis "
            f"{fmt('synkinesis')}, composite {fmt('composite')} (= voluntary - resting - "
            "synkinesis).")
