"""Agreement statistics of a campaign: per check, between passes, between raters, with a model.

- percent agreement of the first check (all blind passes give the same label; a "cannot grade"
  counts as a disagreement) and of the second check (agree among agree + disagree; undecided
  counted apart);
- Cohen's kappa and quadratic-weighted kappa between pass 1 and pass 2 and between every pair of
  raters (media both labelled); the weighted kappa needs an order: a scale's level order where
  it is ordinal, else its severity axis where the levels have one (sided7: N < 1 < 2 < 3, the
  side ignored), else none;
- Fleiss' kappa over the media with every blind pass labelled (each rated ``blind_passes``
  times, by any raters): the statistic for more than two raters;
- a confusion matrix between passes and between each pair of raters (the heat map's data);
- per model version: how often its suggestion was shown and accepted.

The formulas are the standard ones (Cohen 1960/1968, Fleiss 1971) on numpy; the tests compare
them with scikit-learn's ``cohen_kappa_score``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from sqlmodel import Session, select

from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.model import Action, Outcome, PassKind
from fpgrade.labelling.users import Account, require
from fpgrade.scales import GradingScale
from fpgrade.storage.tables import Annotation, Assignment, CheckResult


def confusion(a: Sequence[str], b: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Counts of (label in ``a``, label in ``b``): rows ``a``, columns ``b``, ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for x, y in zip(a, b, strict=True):
        matrix[index[x], index[y]] += 1
    return matrix.tolist()


def percent_agreement(a: Sequence[str], b: Sequence[str]) -> float | None:
    if not a:
        return None
    return 100.0 * sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str],
                positions: Sequence[float] | None = None) -> float | None:
    """Cohen's kappa of two raters' labels; quadratic-weighted when ``positions`` (each label's
    place on an ordered axis) are given. ``None`` when undefined (no data, or chance agreement
    is perfect)."""
    if not a:
        return None
    observed = np.asarray(confusion(a, b, labels), dtype=float)
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    if positions is None:
        weights = 1.0 - np.eye(len(labels))
    else:
        place = np.asarray(positions, dtype=float)
        weights = (place[:, None] - place[None, :]) ** 2
    chance = float((weights * expected).sum())
    if chance == 0:
        return None
    return float(1.0 - (weights * observed).sum() / chance)


def fleiss_kappa(ratings: Sequence[Sequence[str]], labels: Sequence[str]) -> float | None:
    """Fleiss' kappa of items each rated the same number of times (by any raters)."""
    if not ratings:
        return None
    counts = np.asarray([[Counter(item)[label] for label in labels] for item in ratings], float)
    raters = counts.sum(axis=1)
    if len(set(raters)) != 1 or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs every item rated the same number (>= 2) of times")
    n = raters[0]
    per_item = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    shares = counts.sum(axis=0) / counts.sum()
    chance = float((shares ** 2).sum())
    if chance == 1:
        return None
    return float((per_item.mean() - chance) / (1 - chance))


def order_positions(scale: GradingScale) -> list[float] | None:
    """Each level's place for the weighted kappa (see the module docstring), or ``None``."""
    if scale.ordinal:
        return [float(i) for i in range(len(scale.levels))]
    if all(level.severity is not None for level in scale.levels):
        return [float(level.severity) for level in scale.levels]
    return None


@dataclass
class PairAgreement:
    """Two label series over the same media: who or what, how many, and how much they agree."""

    first: str
    second: str
    n: int
    percent: float | None
    kappa: float | None
    weighted_kappa: float | None
    confusion: list[list[int]]

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def pair(first: str, second: str, a: list[str], b: list[str], scale: GradingScale) -> PairAgreement:
    positions = order_positions(scale)
    return PairAgreement(first, second, len(a), percent_agreement(a, b),
                         cohen_kappa(a, b, scale.codes),
                         cohen_kappa(a, b, scale.codes, positions) if positions else None,
                         confusion(a, b, scale.codes))


@dataclass
class AgreementReport:
    campaign: str
    scale: str
    labels: tuple[str, ...]
    first_check: dict[str, object] = field(default_factory=dict)
    second_check: dict[str, object] = field(default_factory=dict)
    between_passes: PairAgreement | None = None
    between_raters: list[PairAgreement] = field(default_factory=list)
    fleiss_kappa: float | None = None
    raters: int = 0
    model: dict[str, dict[str, object]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"campaign": self.campaign, "scale": self.scale, "labels": list(self.labels),
                "first_check": self.first_check, "second_check": self.second_check,
                "between_passes": self.between_passes.as_dict() if self.between_passes else None,
                "between_raters": [p.as_dict() for p in self.between_raters],
                "fleiss_kappa": self.fleiss_kappa, "raters": self.raters, "model": self.model}


def campaign_agreement(session: Session, campaign: int | str, scale: GradingScale, *,
                       by: Account | None = None) -> AgreementReport:
    """Every agreement figure of one campaign (``scale``: the campaign's, from the registry).
    ``by``: the user asking (the pages pass it: it needs ``view``); ``None``: the command line."""
    if by is not None:
        require(session, by, Action.VIEW)
    found = get_campaign(session, campaign)
    report = AgreementReport(found.name, found.scale, scale.codes)
    annotations = session.exec(select(Annotation).where(Annotation.campaign_id == found.id)).all()
    # a blind pass: an annotation of a blind assignment (one pulled from Label Studio included)
    blind_assignments = set(session.exec(select(Assignment.id).where(
        Assignment.campaign_id == found.id, Assignment.pass_kind == PassKind.BLIND.value)).all())
    blind: dict[int, dict[int, Annotation]] = {}
    for a in annotations:
        if a.assignment_id in blind_assignments:
            blind.setdefault(a.media_id, {})[a.pass_number] = a
    complete = {m: p for m, p in blind.items() if len(p) == found.blind_passes}
    agreed = sum(1 for p in complete.values()
                 if len({a.label for a in p.values()}) == 1
                 and all(a.label is not None for a in p.values()))
    report.first_check = {"media": len(complete), "agreed": agreed,
                          "percent": 100.0 * agreed / len(complete) if complete else None}
    outcomes = Counter(session.exec(select(CheckResult.outcome).where(
        CheckResult.campaign_id == found.id)).all())
    decided = outcomes[Outcome.AGREE.value] + outcomes[Outcome.DISAGREE.value]
    report.second_check = {"agree": outcomes[Outcome.AGREE.value],
                           "disagree": outcomes[Outcome.DISAGREE.value],
                           "undecided": outcomes[Outcome.UNDECIDED.value],
                           "percent": 100.0 * outcomes[Outcome.AGREE.value] / decided
                           if decided else None}
    labelled = {m: p for m, p in complete.items() if all(a.label for a in p.values())}
    if labelled:
        ones = [p[1].label for p in labelled.values()]
        twos = [p[2].label for p in labelled.values()]
        report.between_passes = pair("pass 1", "pass 2", ones, twos, scale)
        report.fleiss_kappa = fleiss_kappa([[a.label for a in p.values()]
                                            for p in labelled.values()], scale.codes)
    by_rater: dict[str, dict[int, str]] = {}
    for a in annotations:
        if a.assignment_id in blind_assignments and a.label:
            by_rater.setdefault(a.annotator, {})[a.media_id] = a.label
    report.raters = len(by_rater)
    for x, y in combinations(sorted(by_rater), 2):
        shared = sorted(set(by_rater[x]) & set(by_rater[y]))
        if shared:
            report.between_raters.append(pair(x, y, [by_rater[x][m] for m in shared],
                                              [by_rater[y][m] for m in shared], scale))
    for a in annotations:
        if a.suggestion_shown and a.suggestion_model_version:
            entry = report.model.setdefault(a.suggestion_model_version,
                                            {"shown": 0, "accepted": 0})
            entry["shown"] += 1
            entry["accepted"] += bool(a.suggestion_accepted)
    for entry in report.model.values():
        entry["percent_accepted"] = 100.0 * entry["accepted"] / entry["shown"]
    return report
