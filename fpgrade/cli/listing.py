"""``fpgrade plugins``, ``scales``, ``preprocessors``, ``models``: what is installed."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from fpgrade.cli.console import console, print_json
from fpgrade.conversions import conversion_targets
from fpgrade.registry import get_registry

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def plugins(as_json: bool = JSON_OPTION) -> None:
    """List every plugin once: its version, whether it loaded (ok, failed, blocked) and what it
    registered, or why it was left out."""
    registry = get_registry()
    if as_json:
        print_json([info.as_dict() for info in registry.plugins.values()])
        return
    table = Table("plugin", "version", "status", "registers, or why it was left out",
                  title="fpgrade plugins")
    colours = {"ok": "green", "failed": "red", "blocked": "yellow"}
    for info in registry.plugins.values():
        registered = [f"{kind} {item}" for kind, items in
                      (("scale", info.scales), ("preprocessor", info.preprocessors),
                       ("model", info.models)) for item in items]
        if info.ok:
            what = "\n".join(registered) or (
                "commands only" if "register_commands" in info.hooks else "nothing")
        else:
            what = info.reason or ""
        table.add_row(info.name, info.version or "?", Text(info.status, colours[info.status]),
                      Text(what))
    console.print(table)


def scales(as_json: bool = JSON_OPTION) -> None:
    """List grading scales (levels, conversions) and composite scales (items, scores)."""
    registry = get_registry()
    if as_json:
        print_json(
            [{**s.as_dict(), "converts_to": list(conversion_targets(s))}
             for s in registry.scales.values()]
            + [s.as_dict() for s in registry.composite_scales.values()]
        )
        return
    for scale in registry.scales.values():
        table = Table("code", "name", "side", title=f"{scale.id}: {scale.name} ({scale.source})")
        for level in scale.levels:
            table.add_row(level.code, level.name, level.side.value if level.side else "")
        console.print(table)
        console.print(f"converts to: {', '.join(conversion_targets(scale)) or 'nothing'}\n")
    for composite in registry.composite_scales.values():
        table = Table("item", "name", "range", title=f"{composite.id}: {composite.name} "
                      f"({composite.source}), composite")
        for item in composite.items:
            table.add_row(item.id, item.name, f"{item.minimum:g} to {item.maximum:g}")
        console.print(table)
        console.print(f"scores: {', '.join(score for score, _ in composite.scores)}\n")


def models(as_json: bool = JSON_OPTION) -> None:
    """List grading models with their model cards."""
    registry = get_registry()
    cards = [cls.card for cls in registry.models.values()]
    if as_json:
        print_json([card.as_dict() for card in cards])
        return
    table = Table(title="fpgrade models")
    for column in ("model", "name", "scales", "input", "media"):
        table.add_column(column, overflow="fold")
    for card in cards:
        table.add_row(
            card.id, card.name, "\n".join(card.scales),
            "x".join(map(str, card.input_shape)), ", ".join(card.media),
        )
    console.print(table)


def preprocessors(as_json: bool = JSON_OPTION) -> None:
    """List preprocessors: what each requires and provides (keys, dtype, shape, and the model
    input layout a result fits), and how each layout is normalised for a network."""
    from fpgrade.result_catalogue import NORMALISATION, preprocessor_details

    details = preprocessor_details(get_registry())
    if as_json:
        print_json({"preprocessors": details, "normalisation": NORMALISATION})
        return
    table = Table("preprocessor", "requires", "provides", title="fpgrade preprocessors")
    for item in details:
        requires = [f"{r['key']}: {_kind(r)} ({_source(r['provided_by'])})"
                    for r in item["requires"]]
        provides = [f"{r['key']}: {_kind(r)}" + (f", model input `{r['layout']}`" if r["layout"]
                                                   else "") for r in item["provides"]]
        table.add_row(Text(f"{item['id']} (plugin {item['plugin']})\n{item['description']}"),
                      Text("\n".join(requires)),
                      Text("\n".join(provides)))
    console.print(table)
    layouts = Table("layout", "to the network", title="model inputs by layout")
    for layout, words in NORMALISATION.items():
        layouts.add_row(layout, words)
    console.print(layouts)


def _source(providers: list[str]) -> str:
    if providers == ["given"]:
        return "given by the caller"
    return f"from {', '.join(providers)}" if providers else "no preprocessor provides it"


def _kind(row: dict) -> str:
    return f"{row['dtype']} {row['shape']}".strip()


def register(app: typer.Typer) -> None:
    from fpgrade.cli import check

    app.command()(plugins)
    app.command()(scales)
    app.command()(preprocessors)
    # ``models`` is a group (its registry commands): fpgrade.cli.versions; ``models check``:
    check.register()
