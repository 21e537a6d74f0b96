"""eFACE, the clinician-graded electronic facial paralysis assessment (Banks et al. 2015), as a
composite scale: 14 items of 0-100 (100 = the affected side matches the healthy side) in three
groups, with static, dynamic, synkinesis and total scores.

Automatic items are filled from the measurements of the standard photo set
(:func:`fpgrade.clinic.eface.automatic_items`, after Auto-eFACE, Guarin et al., MIT reference
code dguari1/Auto-eFace); the clinician may edit every item.

Deviations from the paper: the full eFACE has 16 items (two nasolabial-fold orientation items are
folded into the fold items here); the total is the mean of the graded items.
"""

from __future__ import annotations

from fpgrade.clinic import eface
from fpgrade.hookspecs import hookimpl
from fpgrade.scales import CompositeScale, Item

EFACE = CompositeScale(
    id="eface",
    name="eFACE",
    source="Banks et al. 2015 (Plast. Reconstr. Surg. 136:223e); automatic items after Auto-eFACE",
    items=tuple(
        Item(id=item_id, name=name, group=group, minimum=0, maximum=100, step=0.1,
             automatic=automatic, movement=movement, description=how)
        for item_id, name, group, automatic, movement, how in eface.ITEMS
    ),
    formula=eface.scores,
    scores=eface.SCORES,
    description="0-100 per item, 100 = symmetric; measurement-based, not a trained network",
)


@hookimpl
def register_scales(register):
    register(EFACE)
