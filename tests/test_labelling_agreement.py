"""Agreement statistics: kappas against scikit-learn and a published Fleiss example, and a
campaign's report."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import cohen_kappa_score

from fpgrade.labelling.agreement import (
    campaign_agreement, cohen_kappa, confusion, fleiss_kappa, order_positions, percent_agreement,
)
from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.second_check import run_second_check
from fpgrade.storage import database
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.test_labelling_workflow import label_pass


def test_cohen_kappa_matches_scikit_learn(registry):
    scale = registry.scale("house_brackmann")
    rng = random.Random(3)
    a = [rng.choice(scale.codes) for _ in range(200)]
    b = [x if rng.random() < 0.6 else rng.choice(scale.codes) for x in a]
    assert cohen_kappa(a, b, scale.codes) == pytest.approx(cohen_kappa_score(a, b))
    ranks = {code: i for i, code in enumerate(scale.codes)}
    expected = cohen_kappa_score([ranks[x] for x in a], [ranks[x] for x in b], weights="quadratic")
    assert cohen_kappa(a, b, scale.codes, order_positions(scale)) == pytest.approx(expected)
    assert percent_agreement(["I", "II"], ["I", "III"]) == 50.0
    assert cohen_kappa([], [], scale.codes) is None and cohen_kappa(["I"], ["I"], scale.codes) is None


def test_weighted_kappa_of_a_side_aware_scale_uses_its_severity(registry):
    sided7 = registry.scale("sided7")
    assert order_positions(sided7) == [0, 1, 2, 3, 1, 2, 3]  # N, L1-L3, R1-R3
    assert order_positions(registry.scale("mouth_motion")) is None


def test_fleiss_kappa_of_the_published_example():
    """Fleiss (1971) as worked on Wikipedia: 10 items, 14 raters, 5 categories: 0.210."""
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    labels = list("abcde")
    ratings = [[label for label, n in zip(labels, row) for _ in range(n)] for row in table]
    assert fleiss_kappa(ratings, labels) == pytest.approx(0.2099, abs=1e-4)
    with pytest.raises(ValueError):
        fleiss_kappa([["a", "b"], ["a"]], labels)


def test_a_campaigns_agreement_report(registry):
    team = users(ann="labeller", bob="labeller")
    media = add_media(5)
    with database.session() as session:
        c = create_campaign(session, "c", "sided7", registry=registry)
    label_pass(team["ann"], c.id, {m: "L1" for m in media})
    label_pass(team["bob"], c.id, {m: ("L3" if m == media[0] else "L1") for m in media})
    with database.session() as session:
        run_second_check(session, c.id, indices_of=lambda path, kind: {"RgAs": 0.1, "AnAs": 1.0})
        report = campaign_agreement(session, c.id, registry.scale("sided7"))
    assert report.first_check == {"media": 5, "agreed": 4, "percent": 80.0}
    assert report.second_check["agree"] == 4 and report.second_check["percent"] == 100.0
    (raters,) = report.between_raters
    assert (raters.first, raters.second, raters.n, raters.percent) == ("ann", "bob", 5, 80.0)
    assert report.between_passes.n == 5 and report.raters == 2
    assert sum(map(sum, report.between_passes.confusion)) == 5
    assert report.fleiss_kappa is not None
    assert confusion(["L1"], ["L3"], registry.scale("sided7").codes)[1][3] == 1
    assert report.as_dict()["between_raters"][0]["percent"] == 80.0
