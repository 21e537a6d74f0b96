"""Conversions: exactly those the papers define, and an error for every other."""

from __future__ import annotations

import pytest

from fpgrade.conversions import PALSY_BINARY, SEVERITY, SIDE, conversion_targets, convert
from fpgrade.errors import UndefinedConversionError, UnknownLabelError


@pytest.mark.parametrize(
    ("hb", "level"),
    [("I", "I"), ("II", "II"), ("III", "II"), ("IV", "II"), ("V", "III"), ("VI", "III")],
)
def test_house_brackmann_to_severity3_is_paper_000_table_1(registry, hb, level):
    assert convert(hb, registry.scale("house_brackmann"), "severity3") == level


@pytest.mark.parametrize(
    ("scale_id", "label", "binary"),
    [
        ("house_brackmann", "I", "normal"),
        ("house_brackmann", "II", "palsy"),
        ("house_brackmann", "6", "palsy"),
        ("severity3", "I", "normal"),
        ("severity3", "III", "palsy"),
        ("sided7", "N", "normal"),
        ("sided7", "R1", "palsy"),
        ("palsy_binary", "palsy", "palsy"),
    ],
)
def test_any_palsy_scale_converts_to_palsy_binary(registry, scale_id, label, binary):
    assert convert(label, registry.scale(scale_id), PALSY_BINARY) == binary


@pytest.mark.parametrize(
    ("label", "side", "severity"),
    [
        ("N", "none", "normal"),
        ("L1", "left", "mild"),
        ("L2", "left", "moderate"),
        ("L3", "left", "severe"),
        ("R1", "right", "mild"),
        ("R2", "right", "moderate"),
        ("R3", "right", "severe"),
    ],
)
def test_sided7_to_side_and_severity(registry, label, side, severity):
    sided7 = registry.scale("sided7")
    assert convert(label, sided7, SIDE) == side
    assert convert(label, sided7, SEVERITY) == severity


@pytest.mark.parametrize(
    ("scale_id", "target"),
    [
        ("house_brackmann", "sided7"),  # different standards: the papers define no mapping
        ("house_brackmann", SIDE),  # HB carries no side
        ("severity3", "house_brackmann"),  # a coarsening cannot be expanded back
        ("sided7", "house_brackmann"),
        ("sided7", "severity3"),
        ("mouth_motion", PALSY_BINARY),  # motion is not a palsy grade
        ("palsy_binary", "severity3"),
    ],
)
def test_undefined_conversions_are_errors_never_guesses(registry, scale_id, target):
    scale = registry.scale(scale_id)
    with pytest.raises(UndefinedConversionError, match=f"from '{scale_id}' to '{target}'"):
        convert(scale.codes[0], scale, target)


def test_conversion_targets_are_listed(registry):
    assert conversion_targets(registry.scale("house_brackmann")) == ("palsy_binary", "severity3")
    assert conversion_targets(registry.scale("sided7")) == ("palsy_binary", "severity", "side")
    assert conversion_targets(registry.scale("mouth_motion")) == ()


def test_converting_a_label_not_in_the_scale_is_an_unknown_label(registry):
    with pytest.raises(UnknownLabelError):
        convert("VII", registry.scale("house_brackmann"), "severity3")


def test_identity_conversion_normalises(registry):
    assert convert("hb 4", registry.scale("house_brackmann"), "house_brackmann") == "IV"
