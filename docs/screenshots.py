"""PNG screenshots of the main pages of a running portal (for the README), in headless Chromium.

    python docs/screenshots.py [--url http://127.0.0.1:8000] [--out docs/screenshots]

Run it against ``make demo``: it picks the first star that has twins and a BHB candidate.
"""
from __future__ import annotations

import argparse
import json
import shutil
import urllib.request
from pathlib import Path


def get_json(url: str):
    with urllib.request.urlopen(url) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(Path(__file__).parent / "screenshots"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    star = get_json(f"{args.url}/api/stars/?q=SYNA&limit=1")["results"][0]["id"]
    candidate = get_json(f"{args.url}/api/bhb-candidates/?threshold=0.5&limit=1")["results"]
    pages = {
        "search": "/?teff_min=4000&teff_max=4200&logg_max=1&ordering=-fe_h",
        "star": f"/stars/{star}/",
        "twins": f"/stars/{star}/twins/?k=10&exclude_same_group=on",
        "latent_map": "/latent-map/?colour=teff",
        "bhb_candidates": "/bhb/?threshold=0.5",
        "models": "/models/",
        "api_docs": "/api/docs/",
    }
    if candidate:
        pages["bhb_star"] = f"/stars/{candidate[0]['star_id']}/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path in pages.items():
            page.goto(args.url + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # Bokeh draws after load
            page.screenshot(path=str(out / f"{name}.png"), full_page=name in ("star", "twins", "models"))
            print("wrote", out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
