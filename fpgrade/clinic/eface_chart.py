"""The eFACE chart as Auto-eFACE and the eFACE app show it (issue 19): one bar per item, grouped
static, dynamic and synkinesis, against the normal value 100 (a grey bar to 100 behind each
item: "like the healthy side"; Banks et al. 2015), then the four scores.

Each bar carries its value in numbers; an item not graded says "not graded" (never a bar of 0);
an item the clinician entered or changed says so. The bar's colour repeats what the number says
(under 60 red, under 80 amber, else green: ours, for reading at a glance, not eFACE bands).
Drawn with matplotlib (the page shows it as an image, the PDF draws the same figure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

GROUP_WORDS = {"static": "Static (at rest)", "dynamic": "Dynamic (movement)",
               "synkinesis": "Synkinesis"}
SCORE_KEYS = (("static", "Static score"), ("dynamic", "Dynamic score"),
              ("synkinesis", "Synkinesis score"), ("total", "Total score"))
NORMAL = 100.0
COLOURS = ((60.0, "#d62728"), (80.0, "#f0a30a"), (float("inf"), "#2ca02c"))


def colour(value: float) -> str:
    return next(c for limit, c in COLOURS if value < limit)


def rows(items: Sequence, values: Mapping[str, float | None], scores: Mapping[str, float | None],
         automatic: Mapping[str, float | None] | None = None,
         why: Mapping[str, str] | None = None) -> list[tuple[str, str, float | None, str]]:
    """(group, label, value, note) from top to bottom: the items of each group, then the scores.
    ``items``: the eFACE composite scale's items (``id``, ``name``, ``group``); ``why``: why the
    photos left an item empty (shown beside "not graded")."""
    automatic, why = automatic or {}, why or {}
    out = []
    for group in GROUP_WORDS:
        for item in (i for i in items if i.group == group):
            value = values.get(item.id)
            auto = automatic.get(item.id)
            if value is None:
                note = "not graded" + (f": {why[item.id]}" if why.get(item.id) else "" if
                                       item.automatic else " (clinician's item)")
            elif auto is None or abs(auto - value) >= 0.05:
                note = "entered by the clinician"
            else:
                note = "from the photos"
            out.append((group, item.name, value, note))
    for key, words in SCORE_KEYS:
        value = scores.get(key)
        out.append(("scores", words, value, "not graded" if value is None else ""))
    return out


TITLE = "eFACE: each item against normal (100 = like the healthy side)"


def draw(axes, items: Sequence, values: Mapping[str, float | None],
         scores: Mapping[str, float | None], automatic: Mapping[str, float | None] | None = None,
         why: Mapping[str, str] | None = None, *, title: str = TITLE) -> None:
    """Draw :func:`rows` on ``axes`` (horizontal bars, 0-100, normal 100): the page's figure
    and the PDF's page (as vector text there) draw the same."""
    shown = rows(items, values, scores, automatic, why)
    y, ticks, labels, group_lines = 0.0, [], [], []
    last_group = None
    for group, label, value, note in shown:
        if group != last_group:
            y += 0.55 if last_group is not None else 0
            group_lines.append((y - 0.55, GROUP_WORDS.get(group, "Scores")))
            last_group = group
        axes.barh(y, NORMAL, height=0.72, color="#e6e6e6", edgecolor="#bdbdbd", linewidth=0.5)
        bold = group == "scores"
        if value is not None:
            axes.barh(y, value, height=0.5 if not bold else 0.6, color=colour(value))
            inside = value > 88  # the number inside the bar's end, clear of the normal line
            axes.text(value - 1.5 if inside else value + 1.5, y, f"{value:.0f}", va="center",
                      ha="right" if inside else "left", fontsize=7,
                      color="white" if inside else "black", weight="bold" if bold else "normal")
            if note and note != "from the photos":
                axes.text(NORMAL + 2, y, note, va="center", fontsize=6.5, color="#444444")
        else:
            axes.text(1.5, y, note, va="center", fontsize=7, style="italic", color="#555555")
        ticks.append(y)
        labels.append(label)
        y += 1
    for y_line, words in group_lines:
        axes.text(-0.01, y_line + 0.05, words, transform=axes.get_yaxis_transform(), ha="right",
                  va="bottom", fontsize=7.5, weight="bold", color="#333333")
    axes.axvline(NORMAL, color="#333333", linestyle="--", linewidth=1)
    axes.text(NORMAL, -0.9, "normal 100", ha="center", va="bottom", fontsize=7)
    axes.set_yticks(ticks, labels, fontsize=7.5)
    for tick, (group, *_rest) in zip(axes.get_yticklabels(), shown):
        if group == "scores":
            tick.set_fontweight("bold")
    axes.set_ylim(y - 0.3, -1.2)
    axes.set_xlim(0, 140)
    axes.set_xticks([0, 20, 40, 60, 80, 100])
    axes.set_xlabel("score (0 = the worst, 100 = like the healthy side)", fontsize=7.5)
    axes.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_bounds(0, NORMAL)
    axes.set_title(title, fontsize=9)


def height_inches(items: Sequence) -> float:
    """The chart's height for ``items`` (its rows, group headings and axis)."""
    return 0.9 + 0.24 * (len(items) + len(SCORE_KEYS)) + 0.3 * (len(GROUP_WORDS) + 1)


def figure(items: Sequence, values: Mapping[str, float | None],
           scores: Mapping[str, float | None], automatic: Mapping[str, float | None] | None = None,
           why: Mapping[str, str] | None = None, *, title: str = TITLE):
    """A matplotlib figure of the chart (see :func:`draw`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, height_inches(items)), dpi=110)
    draw(fig.add_subplot(), items, values, scores, automatic, why, title=title)
    fig.tight_layout()
    return fig
