"""What the preprocessing results are: the catalogue ``fpgrade preprocessors`` shows and the
result table of ``docs/plugins.md`` (``tests/test_plugin_docs.py`` checks that table against
this catalogue, so the documentation cannot drift from the registry).

The rows come from each registered preprocessor's :attr:`~fpgrade.preprocess_api.Preprocessor.
outputs` and from :data:`~fpgrade.preprocess_api.GIVEN`; how a model's input becomes a tensor,
by layout, is :data:`NORMALISATION` (the words of :func:`fpgrade.training.tensors.to_tensor`,
which ``tests/test_plugin_docs.py`` checks numerically).
"""

from __future__ import annotations

from typing import Any

from fpgrade.preprocess_api import GIVEN, Output

NOT_DECLARED = Output("?", "?", "not declared by its preprocessor")

#: how an input of each layout reaches ``forward`` (batch dimension B first)
NORMALISATION = {
    "image": "uint8 (H, W, C) -> float32 (B, C, H, W): x / 255, then (x - mean) / std per channel "
             "with the card's mean and std",
    "sequence": "uint8 (T, H, W, C) -> float32 (B, T, C, H, W): x / 255, then (x - mean) / std",
    "clip": "uint8 (T, H, W, C) -> float32 (B, C, T, H, W): x / 255, then (x - mean) / std",
    "mask": "class indices (H, W) -> int64 (B, H, W), as they are",
    "vector": "(N,) -> float32 (B, N), as it is: no scaling, no normalisation",
}


def _owner(registry, preprocessor_id: str) -> str | None:
    return next((info.name for info in registry.plugins.values()
                 if preprocessor_id in info.preprocessors), None)


def catalogue(registry) -> list[dict[str, Any]]:
    """One row per result a pipeline can hold: what is given, then what each registered
    preprocessor provides, in registration order."""
    rows = [{"key": key, "provided_by": "given", **out.as_dict()} for key, out in GIVEN.items()]
    for cls in registry.preprocessors.values():
        for key in cls.provides:
            out = cls.outputs.get(key, NOT_DECLARED)
            rows.append({"key": key, "provided_by": cls.id, **out.as_dict()})
    return rows


def preprocessor_details(registry) -> list[dict[str, Any]]:
    """Per registered preprocessor: its plugin, what it requires (with who provides each and what
    it is) and what it provides."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in catalogue(registry):
        by_key.setdefault(row["key"], []).append(row)
    details = []
    for cls in registry.preprocessors.values():
        requires = []
        for key in cls.requires:
            found = by_key.get(key, [])
            first = found[0] if found else {"dtype": "?", "shape": "?"}
            requires.append({"key": key, "provided_by": [r["provided_by"] for r in found],
                             "dtype": first["dtype"], "shape": first["shape"]})
        provides = [{"key": key, **cls.outputs.get(key, NOT_DECLARED).as_dict()}
                    for key in cls.provides]
        details.append({"id": cls.id, "plugin": _owner(registry, cls.id),
                        "description": cls.description, "requires": requires,
                        "provides": provides})
    return details


def markdown_table(registry) -> str:
    """The result table of ``docs/plugins.md``."""
    lines = ["| key | provided by | dtype | shape | layout | what it is |",
             "|---|---|---|---|---|---|"]
    for row in catalogue(registry):
        cells = [f"`{row['key']}`", f"`{row['provided_by']}`", row["dtype"], row["shape"] or "-",
                 f"`{row['layout']}`" if row["layout"] else "-", row["meaning"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
