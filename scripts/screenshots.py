"""Screenshots of Kiln's pages for the README, from a running `make run` (Debian's chromium).

Usage: .venv/bin/python scripts/screenshots.py [BASE_URL] [PATH ...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
OUT = Path(os.environ.get("KILN_SCREENSHOTS", DEFAULT_OUT))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    paths = sys.argv[2:] or ["/"]
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 860})
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("chemist")
        page.get_by_label("Password").fill("kiln-chemist")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            name = path.strip("/").replace("/", "-") or "dashboard"
            page.screenshot(path=OUT / f"{name}.png", full_page=True)
            print(OUT / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
