"""Hand correction of landmarks on the clinician page in a real browser (issue 19): grade the
example photo, drag the right upper lid up, see MRD1 change in the table, nudge with the arrow
keys, export the PDF and find the new MRD1 and the correction line in it, save the visit and
find it in the group's correction summary (Recovery tab), then Reset.

The server and page fixtures are those of :mod:`tests.test_ui_browser` (one ``fpgrade demo`` for
this module). Screenshots go to ``build/test-artefacts/``.
"""

from __future__ import annotations

import re

import numpy as np

import pytest

from tests.browser import ARTEFACTS, BROWSER_TEST
from tests.test_ui_browser import page, server  # noqa: F401 - the module's fixtures

pytestmark = BROWSER_TEST

EDITOR = """(call) => {
  for (const e of document.querySelectorAll('#landmark-editor, #landmark-editor *'))
    if (e.fpLandmarks) return call(e.fpLandmarks);
  return null; }"""


def _editor(page, body: str):
    return page.evaluate(f"() => ({EDITOR})((lm) => {body})")


def _mrd1(page) -> tuple[float, float]:
    cells = page.locator("#measurements tr[data-measure=mrd1] td").all_inner_texts()
    return float(cells[1]), float(cells[2])


def _wait_for_distance(page, start, end) -> None:
    """Until the correction line gives point 38's distance from the detector's position: the
    page then shows what the server measured from ``end`` (never an earlier move's values)."""
    px = round(float(np.linalg.norm(np.subtract(end, start))), 2)  # as the server rounds it
    page.wait_for_selector(f"#landmark-message:has-text('upper lid, right (38)'):has-text("
                           f"'mm ({px:.1f} px)')")


def test_drag_a_lid_point_and_the_table_and_the_pdf_follow(page):  # noqa: F811
    import pypdfium2

    page.click("#example-one")
    page.wait_for_selector("#summary:has-text('Weaker side')")
    page.wait_for_selector("#landmark-editor canvas")
    page.wait_for_function(f"({EDITOR})((lm) => lm.position('38') !== null)")
    right, left = _mrd1(page)
    start = _editor(page, "lm.point('38')")
    page.locator("#landmark-editor canvas").scroll_into_view_if_needed()
    where = _editor(page, "lm.position('38')")
    page.mouse.move(where["x"], where["y"])
    for _ in range(3):  # magnify the eye (x 1.25 per notch, towards the pointer)
        page.mouse.wheel(0, -100)
    page.wait_for_selector("#landmark-editor .fp-lm-status:has-text('now x2.0')")
    assert _editor(page, "lm.point('38')") == start  # magnifying moves no point
    still = _editor(page, "lm.position('38')")  # and keeps the point under the pointer
    assert abs(still["x"] - where["x"]) < 1 and abs(still["y"] - where["y"]) < 1
    where = still
    page.mouse.move(where["x"], where["y"])
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(where["x"], where["y"] - 5 * step)
    page.mouse.up()
    dragged = _editor(page, "lm.point('38')")
    _wait_for_distance(page, start, dragged)  # the server has measured this very position
    moved_right, moved_left = _mrd1(page)
    assert dragged[1] < start[1] - 3  # the lid point went up in the photo
    assert moved_right > right and moved_left == left  # only the right eye's opening changed
    message = page.inner_text("#landmark-message")
    assert "upper lid, right (38)" in message and "by demo" in message
    assert page.locator("#measurements tr[data-measure=mrd1][data-corrected=yes]").count() == 1
    page.locator("#landmark-box").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "20_landmark_dragged.png"))

    # arrow keys: 1 px of the photo, Shift 10 px, on the selected point
    page.keyboard.press("ArrowUp")
    assert _editor(page, "lm.point('38')")[1] == pytest.approx(dragged[1] - 1, abs=1e-6)
    page.keyboard.press("Shift+ArrowUp")
    nudged = _editor(page, "lm.point('38')")
    assert nudged[1] == pytest.approx(dragged[1] - 11, abs=1e-6)
    assert nudged[0] == pytest.approx(dragged[0], abs=1e-6)
    _wait_for_distance(page, start, nudged)
    final_right, _ = _mrd1(page)
    assert final_right > moved_right
    page.locator("#measurements").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "21_landmark_nudged_table.png"))

    page.click("#export")
    link = page.locator("#report-files a[download$='.pdf']").first
    link.wait_for()
    assert page.locator("#report-files a[download$='-landmarks-rest.json']").count() == 1
    with page.expect_download() as info:
        link.click()
    path = ARTEFACTS / "landmarks_report.pdf"
    info.value.save_as(str(path))
    pdf = pypdfium2.PdfDocument(str(path))
    text = " ".join(" ".join(pdf[i].get_textpage().get_text_range().split())
                    for i in range(len(pdf)))
    for i in range(len(pdf)):
        pdf[i].render(scale=1.5).to_pil().save(ARTEFACTS / f"22_landmark_report_page{i + 1}.png")
    assert re.search(r"Landmarks corrected by hand \(At rest[^)]*\): upper lid, right \(38\)", text)
    assert f"MRD1 {final_right:.2f} {left:.2f}" in text
    assert "landmarks corrected by hand: upper lid, right (38)" in text  # the flagged rows

    # saved with the visit, and counted in the group's summary on the Recovery tab
    page.fill("#subject textarea, #subject input", "P-LM1")
    page.fill("#visit textarea, #visit input", "2026-01-10")
    page.click("#save-visit")
    page.wait_for_selector("#message:has-text('Saved assessment')")
    page.get_by_role("tab", name="Recovery").click()
    page.get_by_text("Landmarks corrected by hand (every subject)").click()
    page.click("#corrections-show")
    page.wait_for_selector("#corrections-summary tr:has-text('upper lid')")
    cells = page.locator("#corrections-summary tr:has-text('upper lid') td").all_inner_texts()
    assert cells[:5] == ["upper lid", "1", "1", "100.0", "1"] and cells[-1] == "demo"
    page.locator("#corrections-box").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "23_corrections_summary.png"))
    page.get_by_role("tab", name="Grade").click()

    page.click("#landmark-editor .fp-lm-reset")
    page.wait_for_selector("#landmark-message:has-text('No landmark is corrected by hand')")
    page.wait_for_function("document.querySelector('#measurements tr[data-measure=mrd1] "
                           f"td:nth-child(2)').innerText.trim() === '{right:.2f}'")
    assert _editor(page, "lm.point('38')") == pytest.approx(start)
