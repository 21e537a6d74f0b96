"""Submit-to-next-photo in a real browser, with several raters at once (issue 20; not a timed
test).

    .venv/bin/python -m bench.labelling_browser [--raters 4] [--media 30] [--json OUT.json]

Starts ``fpgrade label`` (:func:`bench.labelling_load.serve`) on a fresh SQLite database with
``--raters`` labellers and a campaign of ``--media`` photos (1024x1024 JPEG-sized PNGs of
scikit-image's astronaut, brightness varied) and two blind passes. Each rater is Debian's
chromium driven by Playwright in its own thread (its own browser, its own login) at 1366x768:
Next, then for every photo shown it presses a level's key and Enter. The clock is the page's own
(``performance.now()``, :data:`STOPWATCH`): it starts at the Enter key and stops in the first
animation frame in which the next photo is on the page (the title names another medium and its
``<img>`` has loaded; or "Nothing left"). The driver only reads the result, polling every
100 ms: before, Playwright polled the page in every animation frame from Python, which cost
more CPU than the page itself (a third of the run's CPU with 4 raters on 2 cores) and was
counted in the time measured. All raters start together (a barrier) and work without pause
(``--think-ms``: a pause before each key, as a rater looks at the photo). Reported: how many
submits, their median and p95 in milliseconds, per rater and overall. Issue 20's target: p95
under 300 ms with 4 raters on the project's machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
  const text = title ? title.textContent : '';
  if (text.includes('Nothing left')) return true;
  const m = text.match(/Medium #(\\d+)/);
  if (!m || m[1] === before) return false;
  const img = document.querySelector('#medium-image img');
  return !!img && img.complete && img.naturalWidth > 0;
}"""
#: installed in each page: at Enter (the keydown, before the page's own handler) it notes the
#: medium shown and the time, then checks in each animation frame whether the next one is shown
#: (:data:`NEXT_SHOWN`) and appends the milliseconds to ``window.__fpTimes``
STOPWATCH = """() => {
  const shownNext = %s;
  window.__fpTimes = [];
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    const text = document.querySelector('#medium-title')?.textContent || '';
    const m = text.match(/Medium #(\\d+)/);
    const before = m ? m[1] : '', start = performance.now();
    const tick = () => shownNext([before])
      ? window.__fpTimes.push(performance.now() - start) : requestAnimationFrame(tick);
    requestAnimationFrame(tick);
  }, true);
}""" % NEXT_SHOWN


#: the medium shown (its number; ``None``: nothing left), focus taken out of any input (one
#: call: the driver's own CPU is taken from the same 2 cores as the browsers and the server)
SHOWN_MEDIUM = """() => {
  document.activeElement?.blur();
  const text = document.querySelector('#medium-title')?.textContent || '';
  const m = text.match(/Medium #(\\d+)/);
  return text.includes('Nothing left') || !m ? null : Number(m[1]);
}"""


def photos(folder: Path) -> None:
    """Make the prepared photos the size of a clinical photo (1024 px), each a little different."""
    from PIL import Image, ImageEnhance

    from tests.media_factory import astronaut

    base = Image.fromarray(astronaut()).resize((1024, 1024))
    for index, path in enumerate(sorted(folder.glob("*.png"))):
        ImageEnhance.Brightness(base).enhance(0.7 + 0.01 * (index % 50)).save(path)


def rater(address: str, name: str, campaign: int, barrier: threading.Barrier, out: dict,
          think_ms: float = 0, finished: threading.Barrier | None = None) -> None:
    """One rater's browser; it closes once every rater is done (``finished``), so that a
    browser closing is not counted in the others' times."""
    from playwright.sync_api import sync_playwright

    log = out.setdefault(name, {"ms": [], "errors": []})
    pause = random.Random(name)
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
            _close(browser, finished)
            return
        barrier.wait()
        try:
            page.evaluate(STOPWATCH)
            page.click("#next-button")
            page.wait_for_function(NEXT_SHOWN, arg=[""], polling=100)
            number = 0
            while (shown := page.evaluate(SHOWN_MEDIUM)) is not None:
                level = 1 + (shown + number) % 3
                if think_ms:   # a rater looks at the photo: 0.5-1.5 x think_ms, seeded
                    time.sleep(pause.uniform(0.5, 1.5) * think_ms / 1000)
                page.keyboard.press(str(level))
                page.wait_for_function(
                    f"document.querySelectorAll('#level-choice input')[{level - 1}].checked",
                    polling=100)
                page.keyboard.press("Enter")
                number += 1
                page.wait_for_function(f"window.__fpTimes.length >= {number}", polling=100)
            log["ms"].extend(page.evaluate("window.__fpTimes"))
        except Exception as exc:  # noqa: BLE001 - reported
            log["errors"].append(f"{type(exc).__name__}: {exc}")
        finally:
            _close(browser, finished)


def _close(browser, finished: threading.Barrier | None) -> None:
    if finished is not None:
        try:
            finished.wait(timeout=600)
        except threading.BrokenBarrierError:
            pass
    browser.close()


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the server (``fpgrade label``), the browsers (every chromium
    process) and this driver (Playwright's Python and node), read from ``/proc`` (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    parts = {"server": 0.0, "browsers": 0.0, "driver": 0.0}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        part = ("server" if "fpgrade label" in command else "browsers" if "chromium" in command.split(" ")[0]
                else "driver" if int(entry.name) == me or "playwright" in command else None)
        if part:
            parts[part] += used
    return parts


def figures(values: list[float]) -> dict:
    ordered = sorted(values)
    count = len(ordered)
    return {"submits": count,
            "median_ms": round(statistics.median(ordered), 1) if ordered else None,
            "p95_ms": round(ordered[max(0, -(-95 * count // 100) - 1)], 1) if ordered else None}


def run(raters: int, media: int, think_ms: float = 0) -> dict:
    from bench.machine import describe

    with tempfile.TemporaryDirectory(prefix="fpgrade-browser-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'browser.db'}"
        campaign = prepare(url, workdir / "media", raters, media)
        photos(workdir / "media")
        out: dict = {}
        cpu: dict = {}
        barrier = threading.Barrier(raters + 1, action=lambda: cpu.update(start=cpu_seconds()))
        finished = threading.Barrier(raters, action=lambda: cpu.update(end=cpu_seconds()))
        with serve(url, workdir) as address:
            threads = [threading.Thread(target=rater, args=(address, f"r{i}", campaign, barrier,
                                                            out, think_ms, finished),
                                        daemon=True)
                       for i in range(raters)]
            for thread in threads:
                thread.start()
            barrier.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
    every = [ms for r in out.values() for ms in r["ms"]]
    return {"machine": describe(), "raters": raters, "media": media, "think_ms": think_ms,
            "seconds": round(seconds, 1), **figures(every),
            "cpu_ms_per_submit": {part: round(1000 * (cpu["end"][part] - cpu["start"][part])
                                              / max(1, len(every)))
                                  for part in cpu.get("end", {})},
            "per_rater": {name: {**figures(r["ms"]), "each_ms": [round(ms) for ms in r["ms"]]}
                          for name, r in sorted(out.items())},
            "errors": [e for r in out.values() for e in r["errors"]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=4)
    parser.add_argument("--media", type=int, default=30, help="photos (x2 blind passes)")
    parser.add_argument("--think-ms", type=float, default=0,
                        help="pause before each key, as a rater looks at the photo (default: none)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.raters, args.media, args.think_ms)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0 if not result["errors"] and result["submits"] == 2 * args.media else 1


if __name__ == "__main__":
    sys.exit(main())
