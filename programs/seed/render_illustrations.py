"""Render each seed illustration (SVG) to the PNG beside it, with headless Chromium.

The SVG is what pages and printouts show; the PNG is what emails and apps get
(many email programs show no SVG). Run after changing a drawing:

    .venv/bin/python programs/seed/render_illustrations.py
"""

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

FOLDER = Path(__file__).resolve().parent / "illustrations"
# Twice the drawings' 800 × 600, so the widest responsive size (1280) is made from it.
WIDTH, HEIGHT = 1600, 1200


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        for svg in sorted(FOLDER.glob("*.svg")):
            data = base64.b64encode(svg.read_bytes()).decode()
            page.set_content(
                f'<body style="margin:0"><img src="data:image/svg+xml;base64,{data}" width="{WIDTH}" height="{HEIGHT}">'
            )
            page.screenshot(path=str(svg.with_suffix(".png")))
            print(svg.with_suffix(".png").name)
        browser.close()


if __name__ == "__main__":
    main()
