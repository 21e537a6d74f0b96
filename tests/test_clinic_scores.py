"""Composite scales (eFACE, Sunnybrook): items, ranges, formulas, automatic eFACE items, the
healthy side, and their registration through the scale hook."""

from __future__ import annotations

import dataclasses

import pytest

from fpgrade.clinic import eface
from fpgrade.clinic.assess import choose_healthy_side
from fpgrade.errors import UnknownLabelError
from fpgrade.face.measure import SIDE_MEASURES, SideValue


class Faked:
    """Measurements with chosen left/right values (the rest symmetric)."""

    def __init__(self, reference_side="left", **pairs):
        base = {name: (10.0, 10.0) for name in SIDE_MEASURES} | {"smile_angle": (90.0, 90.0)}
        base.update(pairs)
        self.sides = {k: SideValue(left=l, right=r, unit="mm", reference="left")
                      for k, (l, r) in base.items()}
        self.reference_side = reference_side


def test_a_symmetric_set_scores_100_on_every_automatic_item():
    rest = Faked()
    moved = Faked(brow_height=(14.0, 14.0), commissure_excursion=(15.0, 15.0),
                  palpebral_fissure_height=(0.5, 0.5), dental_show=(5.0, 5.0))
    items = eface.automatic_items({"rest": rest, "raise_brows": moved, "close_eyes_gently": moved,
                                   "close_eyes_tightly": moved, "smile": moved}, "right")
    values = {k: v["value"] for k, v in items.items()}
    assert values == {k: 100.0 for k in values} and len(values) == 9


def test_a_weak_left_side_lowers_the_dynamic_items_by_its_share_of_movement():
    rest = Faked()
    raised = Faked(brow_height=(12.0, 14.0))  # left lifts 2 mm, right 4 mm
    smile = Faked(commissure_excursion=(11.0, 14.0), dental_show=(2.0, 4.0))
    closed = Faked(palpebral_fissure_height=(5.0, 0.0))  # left closes half-way
    items = eface.automatic_items({"rest": rest, "raise_brows": raised, "smile": smile,
                                   "close_eyes_gently": closed}, "right")
    assert items["brow_elevation"]["value"] == 50.0
    assert items["oral_commissure_smile"]["value"] == 25.0
    assert items["lower_lip_movement"]["value"] == 50.0
    assert items["gentle_eye_closure"]["value"] == 50.0
    assert items["full_eye_closure"] == {"value": None, "why": "needs the 'close eyes tightly' photo"}
    assert choose_healthy_side({"rest": rest, "raise_brows": raised, "smile": smile})[0] == "right"


def test_too_much_is_scored_like_too_little_and_a_missing_rest_photo_is_named():
    assert eface.score_of_ratio(1.3) == eface.score_of_ratio(0.7) == pytest.approx(70.0)
    assert eface.score_of_ratio(3.0) == 0.0
    items = eface.automatic_items({"smile": Faked()}, "left")
    assert items["brow_rest"]["why"] == "needs the rest photo"
    assert items["oral_commissure_smile"]["why"] == "needs the 'rest' photo"
    assert items["lower_lip_movement"]["value"] == 100.0


def test_one_photo_takes_the_side_the_lower_lip_is_pulled_towards():
    side, why = choose_healthy_side({"rest": Faked(reference_side="right")})
    assert side == "right" and "lower lip" in why


def test_eface_scores_are_group_means(registry):
    scale = registry.composite("eface")
    scores = scale.score({"brow_rest": 80, "palpebral_fissure_rest": 100, "brow_elevation": 40,
                          "ocular_synkinesis": 90})
    assert scores == {"static": 90.0, "dynamic": 40.0, "synkinesis": 90.0, "total": 77.5}
    with pytest.raises(UnknownLabelError, match="outside 0-100"):
        scale.score({"brow_rest": 120})
    with pytest.raises(UnknownLabelError, match="'nose' is not in scale 'eface'"):
        scale.score({"nose": 1})
    assert [i.id for i in scale.items if i.automatic] == [
        "brow_rest", "palpebral_fissure_rest", "oral_commissure_rest", "brow_elevation",
        "gentle_eye_closure", "full_eye_closure", "oral_commissure_smile", "lower_lip_movement",
        "ocular_synkinesis"]


def test_sunnybrook_composite_is_voluntary_minus_resting_minus_synkinesis(registry):
    scale = registry.composite("sunnybrook")
    values = {"rest_eye": 1, "rest_cheek": 2, "rest_mouth": 1}
    values |= {f"voluntary_{e}": 3 for e in ("brow_lift", "gentle_eye_closure",
                                              "open_mouth_smile", "snarl", "lip_pucker")}
    assert scale.score(values) == {"resting": 20, "voluntary": 60, "synkinesis": None,
                                   "composite": None}
    values |= {f"synkinesis_{e}": 1 for e in ("brow_lift", "gentle_eye_closure",
                                               "open_mouth_smile", "snarl", "lip_pucker")}
    assert scale.score(values)["composite"] == 60 - 20 - 5
    with pytest.raises(UnknownLabelError, match="not one of"):
        scale.score({"voluntary_snarl": 2.5})
    with pytest.raises(UnknownLabelError, match="0 is not one of 1 .unable"):
        scale.score({"voluntary_snarl": 0})


def test_composite_scales_are_registered_apart_from_the_levelled_ones(registry):
    assert set(registry.composite_scales) == {"eface", "sunnybrook"}
    assert "eface" not in registry.scales and "sided7" in registry.scales
    assert registry.plugins["eface"].scales == ["eface"]
    assert registry.composite("sunnybrook").as_dict()["composite"] is True


def test_a_composite_scale_id_cannot_clash_with_a_levelled_one(install_plugin):
    from fpgrade.registry import get_registry

    install_plugin("clash", """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.scales import CompositeScale, Item

        @hookimpl
        def register_scales(register):
            register(CompositeScale("sided7", "x", "test", (Item("a", "A", "g", 0, 1),),
                                    formula=lambda values: {}))
        """)
    registry = get_registry()
    (failure,) = registry.failures
    assert failure.name == "clash" and "scale id 'sided7' is registered twice" in failure.error
    assert "sided7" not in registry.composite_scales


def test_quality_flags_of_the_measurements_are_shown_in_words(astronaut_landmarks):
    from fpgrade.clinic.assess import quality_notes
    from fpgrade.face.measure import measure_face

    measured = measure_face(astronaut_landmarks)
    flagged = dataclasses.replace(measured, quality={**measured.quality, "mrd1_left": ("eye_closed",),
                                                     "brow_height_right": ()})
    assert quality_notes(flagged) == [
        "measurement quality (treat these values with care): MRD1, left: eye closed: iris centre "
        "guessed"]
    assert quality_notes(dataclasses.replace(measured, quality={})) == []
