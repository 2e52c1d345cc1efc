#!/usr/bin/env python3
"""Regenerate docs/report.png: the top of the HTML leaderboard of a small demo, as headless Chromium
shows it in a 1280 px wide window.

The demo needs no model and takes about half a minute on two cores: three "models" run seven
retrieval and tracking tasks at 1k-16k tokens (depths 0, 50, 100; 3 samples a cell) through the
`echo` test runner, which replies with the prompt itself and so finds every answer:

    demo-echo         the plain echo runner (100 everywhere)
    demo-forgetful    the echo runner with a reply script: "I do not know." when the prompt holds
                      words that longer prompts hold more often, so its scores fall with length
    demo-distracted   the same with words that come later, and every 11th request failing (errors
                      are counted, not scored)

(The embedded SmolLM2 of `make demo` took 16 minutes for 18 samples on this machine and scores
100 at 1k-4k, so it makes a slower and flatter picture.) Then it writes the leaderboard of the three
runs and takes the screenshot. Usage:

    .venv/bin/python scripts/report_screenshot.py                          # writes docs/report.png
    .venv/bin/python scripts/report_screenshot.py --keep results/report-demo   # keeps runs and leaderboard

Needs playwright (the test extras) and Chromium (Debian's; `make browser` installs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# no hub here, as in the Makefile: fail at once instead of hanging on a stray id
for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TASKS = "niah_single_1,niah_single_2,niah_multikey_1,niah_multivalue,vt,cwe,qa_1"
LENGTHS = "1k,2k,4k,8k,16k"
DEPTHS = "0,50,100"
SAMPLES = 3
TOKENIZER = "tiktoken:o200k_base"  # counts tokens without any model files
# words found in more prompts the longer the prompt (with the shipped corpus and seed 0, " marked ",
# " detail " or " carry " is in 4% of the 1k prompts and 67% of the 16k ones): a reply script that
# gives up on them fails more at length; the distracted one holds out longer, then drops
MODELS = {
    "demo-echo": {},
    "demo-forgetful": {"script": [" marked ", " detail ", " carry "]},
    "demo-distracted": {"script": [" instantly ", " formal ", " recollection "], "fail_every": 11},
}
WIDTH, HEIGHT = 1280, 900
MAX_BYTES = 300_000


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        sys.exit("report_screenshot: no chromium on this machine (make browser, or apt-get install chromium)")
    return path


def run_demo(work: Path, tokenizer: str = TOKENIZER) -> list[Path]:
    import lc_bench

    runs = []
    for model, setup in MODELS.items():
        options: dict[str, object] = {}
        if "script" in setup:
            script = work / f"{model}.json"
            rules = [{"contains": word, "reply": "I do not know."} for word in setup["script"]]
            script.write_text(json.dumps(rules), encoding="utf-8")
            options["script"] = str(script)
        if "fail_every" in setup:
            options["fail_every"] = setup["fail_every"]
        result = lc_bench.evaluate(
            model=model, tokenizer=tokenizer, runner="echo", runner_options=options, tasks=TASKS,
            lengths=LENGTHS, depths=DEPTHS, samples=SAMPLES, out=work / "runs", name=model, write_outputs=False,
        )
        runs.append(Path(result.run_dir))
    return runs


def screenshot(html: Path, png: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.metrics.test_html import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(html.as_uri())
            if errors:
                sys.exit(f"report_screenshot: the page's script failed: {errors}")
            png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(png), full_page=False)
        finally:
            browser.close()


def shrink(png: Path) -> None:
    """A palette PNG when the full-colour one is over MAX_BYTES (text and flat colours lose nothing visible)."""
    if png.stat().st_size <= MAX_BYTES:
        return
    from PIL import Image

    with Image.open(png) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png", help="the PNG to write")
    parser.add_argument("--tokenizer", default=TOKENIZER, help=f"counts the demo's tokens (default {TOKENIZER})")
    parser.add_argument("--keep", type=Path, help="keep the runs and leaderboard here, not in a temporary folder")
    args = parser.parse_args()
    import lc_bench

    with tempfile.TemporaryDirectory(prefix="lc_bench-report-") as temporary:
        work = (args.keep or Path(temporary)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        runs = run_demo(work, args.tokenizer)
        board_dir = work / "leaderboard"
        lc_bench.leaderboard(runs, out=board_dir)
        screenshot(board_dir / "leaderboard.html", args.out)
    shrink(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) from {board_dir / 'leaderboard.html'}")


if __name__ == "__main__":
    main()
