"""Screenshot a page in headless Chromium: a run's report.html, or the live dashboard of a running demo.

    python scripts/screenshot.py runs/demo-X/report.html docs/img/report.png [--full]
    python scripts/screenshot.py "http://127.0.0.1:PORT/?token=TOKEN" docs/img/dashboard.png --settle 20

playwright from the venv; the system chromium unless told otherwise. `--settle` waits that many seconds
after the page loads (the dashboard fills in from its API and event stream).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("target", help="a file (report.html) or an http(s) URL")
    ap.add_argument("out", type=Path)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    ap.add_argument("--settle", type=float, default=0.0, help="seconds to wait after the page loads")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1600)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    url = a.target if a.target.startswith(("http://", "https://")) else Path(a.target).resolve().as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=a.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": a.width, "height": a.height}, timezone_id="UTC")
        page.goto(url)
        time.sleep(a.settle)
        page.screenshot(path=str(a.out), full_page=a.full)
        browser.close()
    print(a.out)


if __name__ == "__main__":
    main()
