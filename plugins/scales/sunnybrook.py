"""The Sunnybrook facial grading system (Ross, Fradet & Nedzelski 1996) as a composite scale:
resting symmetry (3 items), voluntary movement (5 expressions, 1-5), synkinesis (5 expressions,
0-3); composite = voluntary - resting - synkinesis. Graded by the clinician on the page.

Deviations from the paper: none in the arithmetic; the page shows each expression's photo of the
standard set next to its items.
"""

from __future__ import annotations

from fpgrade.clinic import sunnybrook as sb
from fpgrade.hookspecs import hookimpl
from fpgrade.scales import CompositeScale, Item


def _items() -> tuple[Item, ...]:
    items = [Item(id=item_id, name=name, group=sb.REST, minimum=0, maximum=2,
                  choices=tuple((float(v), text) for v, text in choices), movement="rest")
             for item_id, name, choices in sb.REST_ITEMS]
    for group, choices, low, high in ((sb.VOLUNTARY, sb.VOLUNTARY_CHOICES, 1, 5),
                                      (sb.SYNKINESIS, sb.SYNKINESIS_CHOICES, 0, 3)):
        items += [Item(id=f"{group}_{key}", name=name, group=group, minimum=low, maximum=high,
                       choices=tuple((float(v), text) for v, text in choices), movement=movement)
                  for key, name, movement in sb.EXPRESSIONS]
    return tuple(items)


SUNNYBROOK = CompositeScale(
    id="sunnybrook",
    name="Sunnybrook facial grading system",
    source="Ross, Fradet & Nedzelski 1996 (Otolaryngol. Head Neck Surg. 114:380)",
    items=_items(),
    formula=sb.scores,
    scores=sb.SCORES,
    description="entered by the clinician; composite 100 = normal function",
)


@hookimpl
def register_scales(register):
    register(SUNNYBROOK)
