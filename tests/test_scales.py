"""Every registered scale, and the five built-in scales level by level."""

from __future__ import annotations

import pytest
from fpgrade.errors import UnknownLabelError
from fpgrade.registry import load_registry
from fpgrade.scales import GradingScale, Level, Side

BUILT_IN = ("house_brackmann", "severity3", "sided7", "palsy_binary", "mouth_motion")
ALL_SCALES = sorted(load_registry(disabled=()).scales)


@pytest.mark.parametrize("scale_id", ALL_SCALES)
def test_every_scale_is_consistent(registry, scale_id):
    scale = registry.scale(scale_id)
    assert len(scale.codes) == len(set(scale.codes)) >= 2
    for index, level in enumerate(scale.levels):
        assert scale.index(level.code) == index
        assert scale.level(level.code.lower()) is level
        assert scale.flip(scale.flip(level.code)) == level.code
        for alias in level.aliases:
            assert scale.normalise(alias) == level.code
    with pytest.raises(UnknownLabelError, match=rf"not in scale '{scale_id}'"):
        scale.level("definitely-not-a-level")


def test_built_in_scales_are_registered(registry):
    assert set(BUILT_IN) <= set(registry.scales)


def test_house_brackmann_has_paper_002_table_1(registry):
    hb = registry.scale("house_brackmann")
    assert hb.codes == ("I", "II", "III", "IV", "V", "VI")
    assert hb.ordinal and not hb.side_aware
    assert hb.level("IV").details["motion"].startswith("Forehead - none; Eye - incomplete closure")
    assert hb.level("V").details["gross"] == "Only barely perceptible motion."
    assert hb.level("VI").details["at_rest"] == "Asymmetry."
    assert set(hb.level("II").details) == {"gross", "at_rest", "motion"}
    assert hb.normalise("3") == "III" and hb.normalise("HB 6") == "VI"
    assert [level.normal for level in hb.levels] == [True] + [False] * 5


def test_severity3_is_paper_000_table_1(registry):
    s3 = registry.scale("severity3")
    assert s3.codes == ("I", "II", "III")
    assert "2 to 4" in s3.level("II").description
    assert "5 and 6" in s3.level("III").description


def test_sided7_levels_know_their_side(registry):
    s7 = registry.scale("sided7")
    assert s7.codes == ("N", "L1", "L2", "L3", "R1", "R2", "R3")
    assert s7.level("N").side is None
    assert [s7.level(c).side for c in ("L1", "L2", "L3")] == [Side.LEFT] * 3
    assert [s7.level(c).side for c in ("R1", "R2", "R3")] == [Side.RIGHT] * 3
    assert s7.side_aware and not s7.ordinal


@pytest.mark.parametrize(
    ("code", "mirrored"),
    [("N", "N"), ("L1", "R1"), ("L2", "R2"), ("L3", "R3"), ("R1", "L1"), ("R2", "L2"), ("R3", "L3")],
)
def test_sided7_flip_swaps_left_and_right(registry, code, mirrored):
    assert registry.scale("sided7").flip(code) == mirrored


@pytest.mark.parametrize("scale_id", ["house_brackmann", "severity3", "palsy_binary", "mouth_motion"])
def test_flip_leaves_sideless_labels_alone(registry, scale_id):
    scale = registry.scale(scale_id)
    assert [scale.flip(code) for code in scale.codes] == list(scale.codes)


def test_palsy_binary_and_mouth_motion(registry):
    assert registry.scale("palsy_binary").codes == ("normal", "palsy")
    mouth = registry.scale("mouth_motion")
    assert mouth.codes == ("none", "smile", "open", "other")
    assert mouth.normalise("Mouth open") == "open"
    assert all(level.normal is None for level in mouth.levels)


def test_unknown_label_error_names_label_scale_and_valid_codes(registry):
    with pytest.raises(UnknownLabelError) as caught:
        registry.scale("sided7").level("L4")
    assert str(caught.value) == "label 'L4' is not in scale 'sided7' (valid: N, L1, L2, L3, R1, R2, R3)"


def test_a_scale_refuses_repeated_codes_and_ambiguous_aliases():
    with pytest.raises(ValueError, match="repeats a level code"):
        GradingScale("x", "x", "test", (Level("a", "A"), Level("a", "B")))
    with pytest.raises(ValueError, match="names two levels"):
        GradingScale("x", "x", "test", (Level("a", "A", aliases=("b",)), Level("b", "B")))


def test_as_dict_is_json_ready(registry):
    import json

    data = registry.scale("sided7").as_dict()
    assert json.loads(json.dumps(data))["levels"][1] == {
        **data["levels"][1], "code": "L1", "side": "left"
    }


def test_scales_are_plain_data_without_a_deep_learning_stack():
    import subprocess
    import sys

    code = (
        "import sys, importlib; from importlib.metadata import entry_points; "
        "[importlib.import_module(ep.value) for ep in entry_points(group='fpgrade') "
        " if '.scales.' in ep.value]; import fpgrade.conversions; "
        "print(sorted(m for m in ('torch', 'cv2', 'gradio', 'mediapipe') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
