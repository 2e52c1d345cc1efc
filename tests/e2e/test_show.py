"""`lc-bench show RUN SAMPLE_ID` rebuilds a recorded prompt from the manifest and checks it against
the stored sha256."""

import hashlib
import json

import pytest

from lc_bench import api
from lc_bench.show import excerpt, show_prompt
from tests.e2e.test_cli import lc_bench_in_process


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("show")
    result = api.evaluate(
        model=str(tiny_model_dir), tasks=["niah_single_2", "vt", "niah_multikey_2"], lengths="2k,4k", depths="0,100",
        runner="echo", out=out, write_outputs=False,
    )
    return result.summary.run_dir


def records(run_dir):
    return [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]


def test_every_recorded_prompt_is_rebuilt_exactly(run_dir):
    for record in records(run_dir):
        shown = show_prompt(run_dir, record["sample_id"])
        assert shown.matches, record["sample_id"]
        assert hashlib.sha256(shown.prompt.encode()).hexdigest() == record["prompt_sha256"]
        assert shown.prompt.startswith(record["prompt_head"]) and shown.prompt.endswith(record["prompt_tail"])


def test_the_needle_neighbourhood_is_marked(run_dir):
    shown = show_prompt(run_dir, "niah_single_2/4k/d100/0")
    around = excerpt(shown, 80)
    value = shown.record["references"][0]
    assert "[>>> One of the special magic numbers for" in around or "[>>>One of the special" in around
    assert value in around and around.startswith("...") and len(around) < 200


def test_the_command_prints_the_prompt_and_the_check(run_dir):
    result = lc_bench_in_process("show", str(run_dir), "vt/2k/0")
    record = next(r for r in records(run_dir) if r["sample_id"] == "vt/2k/0")
    assert hashlib.sha256(result.stdout.removesuffix("\n").encode()).hexdigest() == record["prompt_sha256"]
    assert "matches the recorded sha256" in result.stderr
    as_json = json.loads(lc_bench_in_process("show", str(run_dir), "vt/2k/0", "--json").stdout)
    assert as_json["matches"] is True and as_json["references"] == record["references"]


def test_a_changed_record_is_reported_as_not_matching(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    lines = [json.loads(line) for line in (copy / "records.jsonl").read_text().splitlines()]
    lines[0]["prompt_sha256"] = "0" * 64
    (copy / "records.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = lc_bench_in_process("show", str(copy), lines[0]["sample_id"], check_rc=1)
    assert "does NOT match" in result.stderr


def test_an_unknown_sample_is_one_line(run_dir):
    result = lc_bench_in_process("show", str(run_dir), "vt/2k/d0/0", check_rc=2)
    assert result.stderr.strip().splitlines() == [
        f"lc-bench: error: no record of sample 'vt/2k/d0/0' in {run_dir} (e.g. vt/2k/0, vt/4k/0)"
    ]
    assert lc_bench_in_process("show", str(run_dir), "vt/2k/0", "--around", "50", check_rc=2).stderr.startswith(
        "lc-bench: error: sample vt/2k/0 has no recorded evidence position"
    )


def test_records_keep_the_needle_neighbourhood(run_dir):
    for record in records(run_dir):
        if record["task"].startswith("niah"):
            value = record["references"][0]
            assert f"{value}.<<<]" in record["focus_excerpt"] and "[>>>One of the special" in record["focus_excerpt"]
        else:
            assert record["focus_excerpt"] == ""


@pytest.mark.browser
def test_the_report_links_each_sample_to_its_evidence(run_dir, tmp_path):
    from lc_bench.metrics.aggregate import build_leaderboard
    from lc_bench.metrics.outputs import write_outputs
    from tests.metrics.test_html import CHROMIUM_ARGS, chromium_path

    sync_api = pytest.importorskip("playwright.sync_api")
    write_outputs(build_leaderboard([run_dir]), [run_dir], tmp_path, per_cell=5)
    record = next(r for r in records(run_dir) if r["sample_id"] == "niah_single_2/4k/d100/0")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto((tmp_path / "leaderboard.html").as_uri())
            evidence = page.locator(f"#focus-{record['key']}")
            assert evidence.evaluate("node => node.open") is False
            page.locator(f"a[href='#focus-{record['key']}']").evaluate("node => node.click()")
            assert evidence.evaluate("node => node.open") is True
            assert evidence.evaluate("node => node.closest('details.drilldown').open") is True
            assert record["references"][0] in evidence.inner_text()
        finally:
            browser.close()
