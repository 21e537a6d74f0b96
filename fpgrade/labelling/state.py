"""Pure workflow rules: the first check and where a medium stands, from its labels alone.

No database here: the workflow, the progress page, the CLI and Label Studio sync all call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fpgrade.labelling.model import Outcome, PassKind, Status


@dataclass(frozen=True)
class PassLabel:
    """One done pass of a medium: its label, or why it could not be graded."""

    label: str | None
    cannot_grade: str | None = None


def first_check(blind: Sequence[PassLabel], passes: int) -> str | None:
    """The agreed label when all ``passes`` blind passes are done and give the same label;
    ``None`` otherwise (missing passes, a "cannot grade", or a disagreement)."""
    if len(blind) < passes:
        return None
    labels = {p.label for p in blind}
    if len(labels) != 1 or None in labels or any(p.cannot_grade for p in blind):
        return None
    return labels.pop()


def medium_status(blind: Sequence[PassLabel], passes: int, check: Outcome | str | None = None,
                  adjudication: PassLabel | None = None, final: bool = False) -> Status:
    """Where a medium of a campaign stands.

    :param blind: its done blind passes; :param passes: how many the campaign needs;
    :param check: the second check's outcome, if it ran; :param adjudication: the adjudicator's
        decision, if any; :param final: whether the campaign gave it a final label.
    """
    if final:
        return Status.FINAL
    if adjudication is not None:
        return Status.EXCLUDED if adjudication.label is None else Status.FINAL
    if len(blind) < passes:
        return Status.BLIND
    if first_check(blind, passes) is None:
        return Status.ADJUDICATION
    if check is None:
        return Status.AWAITING_CHECK
    return Status.FINAL if Outcome(check) is Outcome.AGREE else Status.ADJUDICATION


def may_show_suggestion(pass_kind: PassKind | str, suggestions_in_blind: bool) -> bool:
    """Whether the model's suggestion may be shown in a pass: always to adjudicators, in blind
    passes only where the campaign allows it."""
    if PassKind(pass_kind) is PassKind.ADJUDICATION:
        return True
    return PassKind(pass_kind) is PassKind.BLIND and suggestions_in_blind
