"""The demo page's handler (the grading UI replaces the page later; the handler is plain Python)."""

from __future__ import annotations


def test_the_summary_lists_scales_models_and_the_database(tmp_path, isolated_settings):
    from fpgrade.cli import main
    from fpgrade_ui.app import build_demo, installation_summary
    from tests.media_factory import write_image

    write_image(tmp_path / "face.jpg")
    (tmp_path / "m.csv").write_text("subject,path,movement,scale,label\nP1,face.jpg,MV0,sided7,R2\n")
    assert main(["import", str(tmp_path / "m.csv")]) == 0
    text = installation_summary()
    assert "`house_brackmann`" in text and "`sided7`" in text and "`palsynet3d`" in text
    assert "1 subjects, 1 media, 1 annotations" in text
    assert str(isolated_settings / "fpgrade.db") in text
    assert build_demo() is not None
