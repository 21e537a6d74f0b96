"""Checks of reused folds (``train --splits FILE``) against the request and the data.

Issue 22 found a different ``--protocol`` silently ignored (``run.json`` said kfold:5 for
``--protocol loso``) and subjects of the splits that the data lacks accepted (a fold tested on
6 samples instead of 12, a ``ghost_subject`` trained on nothing). Both are refused by name:

- the protocol a run reports is the splits file's; an explicit ``--protocol`` that differs is
  refused (leave it out, or train without ``--splits``);
- every subject the splits name must be in the data (with at least one sample that could be
  preprocessed), and every subject of the data must be in the splits (a new one would be left
  out of training and testing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fpgrade.errors import TrainingError

SHOWN = 5


def _shown(names: Sequence[str]) -> str:
    return ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def check_protocol_matches(asked: str | None, theirs: str, splits: Path) -> str:
    """The splits' protocol; an explicitly asked one that differs is refused."""
    if asked and asked != theirs:
        raise TrainingError(f"--protocol {asked} differs from the protocol of {splits} ({theirs}): "
                            "the folds come from that file; leave --protocol out, or train "
                            "without --splits")
    return theirs


def check_subjects_in_folds(subjects: Iterable[str], folds, splits: Path,
                            unprepared: Iterable[str] = ()) -> None:
    """Every subject of the splits in the data and every subject of the data in the splits.

    :param subjects: the subjects with at least one usable sample.
    :param unprepared: subjects of the data none of whose records could be preprocessed (said so).
    """
    subjects, unprepared = set(subjects), set(unprepared)
    where: dict[str, str] = {}
    for index, fold in enumerate(folds):
        for part in ("train", "val", "test"):
            for subject in getattr(fold, part):
                where.setdefault(subject, f"fold {index}")
    ghosts = sorted(set(where) - subjects)
    if ghosts:
        parts = []
        for name in ghosts[:SHOWN]:
            why = " (none of its records could be preprocessed)" if name in unprepared else ""
            parts.append(f"{name} is in {Path(splits).name} {where[name]} but not in the data{why}")
        more = f" (and {len(ghosts) - SHOWN} more subjects)" if len(ghosts) > SHOWN else ""
        raise TrainingError(f"{splits}: " + "; ".join(parts) + more
                            + ": use the data those folds were made from, or train without --splits")
    new = sorted(subjects - set(where))
    if new:
        raise TrainingError(f"{splits}: {len(new)} subject(s) of the data are in none of its folds "
                            f"({_shown(new)}); train without --splits, or use data of the same subjects")
