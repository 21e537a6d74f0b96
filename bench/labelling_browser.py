"""Submit-to-next-photo in a real browser, with several raters at once (issue 20; not a timed
test).

    .venv/bin/python -m bench.labelling_browser [--raters 4] [--media 30] [--json OUT.json]

Starts ``fpgrade label`` (:func:`bench.labelling_load.serve`) on a fresh SQLite database with
``--raters`` labellers and a campaign of ``--media`` photos (1024x1024 JPEG-sized PNGs of
scikit-image's astronaut, brightness varied) and two blind passes. Each rater is Debian's
chromium driven by Playwright in its own thread (its own browser, its own login) at 1366x768:
Next, then for every photo shown it presses a level's key and Enter, and the clock runs from
the Enter to the moment the next photo is on the page (the title names another medium and its
``<img>`` has loaded; or "Nothing left"). All raters start together (a barrier) and work
without pause. Reported: how many submits, their median and p95 in milliseconds, per rater and
overall. Issue 20's target: p95 under 300 ms with 4 raters on the project's machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.labelling_load import PASSWORD, prepare, serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
NEXT_SHOWN = """([before]) => {
  const title = document.querySelector('#medium-title');
  const text = title ? title.innerText : '';
  if (text.includes('Nothing left')) return true;
  const m = text.match(/Medium #(\\d+)/);
  if (!m || m[1] === before) return false;
  const img = document.querySelector('#medium-image img');
  return !!img && img.complete && img.naturalWidth > 0;
}"""


def photos(folder: Path) -> None:
    """Make the prepared photos the size of a clinical photo (1024 px), each a little different."""
    from PIL import Image, ImageEnhance

    from tests.media_factory import astronaut

    base = Image.fromarray(astronaut()).resize((1024, 1024))
    for index, path in enumerate(sorted(folder.glob("*.png"))):
        ImageEnhance.Brightness(base).enhance(0.7 + 0.01 * (index % 50)).save(path)


def rater(address: str, name: str, campaign: int, barrier: threading.Barrier, out: dict) -> None:
    from playwright.sync_api import sync_playwright

    log = out.setdefault(name, {"ms": [], "errors": []})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.set_default_timeout(120_000)
            page.goto(address)
            page.fill("#username", name)
            page.fill("#password", PASSWORD)
            page.click("#login-button")
            page.wait_for_selector(f"#whoami:has-text('{name}')")
        except Exception as exc:  # noqa: BLE001 - reported
            log["errors"].append(f"login: {type(exc).__name__}: {exc}")
            barrier.wait()
            browser.close()
            return
        barrier.wait()
        try:
            page.click("#next-button")
            page.wait_for_function(NEXT_SHOWN, arg=[""], polling="raf")
            number = 0
            while "Nothing left" not in page.inner_text("#medium-title"):
                shown = page.inner_text("#medium-title").split("Medium #", 1)[1].split()[0]
                shown = "".join(ch for ch in shown if ch.isdigit())
                page.locator("#page-head").click()        # focus out of any input
                level = 1 + (int(shown) + number) % 3
                page.keyboard.press(str(level))
                page.wait_for_function(
                    f"document.querySelectorAll('#level-choice input')[{level - 1}].checked",
                    polling="raf")
                start = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_function(NEXT_SHOWN, arg=[shown], polling="raf")
                log["ms"].append(1000 * (time.perf_counter() - start))
                number += 1
        except Exception as exc:  # noqa: BLE001 - reported
            log["errors"].append(f"{type(exc).__name__}: {exc}")
        finally:
            browser.close()


def figures(values: list[float]) -> dict:
    ordered = sorted(values)
    count = len(ordered)
    return {"submits": count,
            "median_ms": round(statistics.median(ordered), 1) if ordered else None,
            "p95_ms": round(ordered[max(0, -(-95 * count // 100) - 1)], 1) if ordered else None}


def run(raters: int, media: int) -> dict:
    from bench.machine import describe

    with tempfile.TemporaryDirectory(prefix="fpgrade-browser-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'browser.db'}"
        campaign = prepare(url, workdir / "media", raters, media)
        photos(workdir / "media")
        out: dict = {}
        barrier = threading.Barrier(raters + 1)
        with serve(url, workdir) as address:
            threads = [threading.Thread(target=rater, args=(address, f"r{i}", campaign, barrier,
                                                            out), daemon=True)
                       for i in range(raters)]
            for thread in threads:
                thread.start()
            barrier.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
    every = [ms for r in out.values() for ms in r["ms"]]
    return {"machine": describe(), "raters": raters, "media": media,
            "seconds": round(seconds, 1), **figures(every),
            "per_rater": {name: figures(r["ms"]) for name, r in sorted(out.items())},
            "errors": [e for r in out.values() for e in r["errors"]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=4)
    parser.add_argument("--media", type=int, default=30, help="photos (x2 blind passes)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.raters, args.media)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0 if not result["errors"] and result["submits"] == 2 * args.media else 1


if __name__ == "__main__":
    sys.exit(main())
