"""Screenshot a run's report.html in headless Chromium: `python scripts/report_screenshot.py REPORT_HTML OUT_PNG
[--chromium PATH] [--full]` (playwright from the venv; the system chromium unless told otherwise)."""

from __future__ import annotations

import argparse
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("html", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=a.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(a.html.resolve().as_uri())
        page.screenshot(path=str(a.out), full_page=a.full)
        browser.close()
    print(a.out)


if __name__ == "__main__":
    main()
