"""leaderboard.html: escaped, self-contained, and working in real headless Chromium."""

import os
import re
import shutil

import pytest

from lc_bench.axes import TaskReport
from lc_bench.metrics.aggregate import build_leaderboard
from lc_bench.metrics.html import heat_color, render_html
from lc_bench.metrics.outputs import write_outputs
from lc_bench.registry import TASKS
from tests.metrics.helpers import Row, scored, write_run

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">&amp; "quoted"'
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


@pytest.fixture
def runs(tmp_path):
    first = write_run(
        tmp_path / "results" / "a",
        [
            *scored("a", 9, 10, length=1024, depth=50.0),
            *scored("b", 2, 10, length=2048, depth=0.0),
            Row("evil", 0.0, 2048, depth=100.0, output=HOSTILE),
            *scored("v", 1, 2, length=1024, task="vt"),
            *scored("w", 2, 2, length=2048, task="vt"),
        ],
    )
    second = write_run(tmp_path / "results" / "b", scored("c", 5, 10, length=1024, model="z-model")
                       + scored("d", 5, 10, length=2048, model="z-model"))
    return [first, second]


def test_outputs_are_escaped_and_self_contained(runs):
    html = render_html(build_leaderboard(runs), runs, per_cell=20)
    assert HOSTILE not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # our own sorter, nothing else
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html) and "<link" not in html  # nothing fetched
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "script-src 'sha256-" in policy and "default-src 'none'" in policy


def test_drilldown_shows_lowest_scores_first(runs):
    html = render_html(build_leaderboard(runs), runs, per_cell=2)
    assert "(2 shown of 11)" in html  # niah @ 2k: 10 scored + the hostile one
    # b0, b1 scored 100 and b2..b9 scored 0: the first two zeros are shown, no success
    assert "niah/b2<" in html and "niah/b3<" in html and "niah/b0<" not in html


def test_drilldown_shows_errors_first(tmp_path):
    run = write_run(tmp_path / "r", [Row("ok", 0.0), Row("bad", None, error=True)])
    html = render_html(build_leaderboard([run]), [run], per_cell=1)
    assert "niah/bad<" in html and "error: E: boom" in html and "niah/ok<" not in html


def test_write_outputs(runs, tmp_path):
    board = build_leaderboard(runs)
    written = write_outputs(board, runs, tmp_path / "out")
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert names[:4] == ["leaderboard.csv", "leaderboard.html", "leaderboard.json", "leaderboard.md"]
    assert "plots/length_overall.png" in names and "plots/length_ruler.png" in names
    assert "plots/heatmap_m_niah.png" in names
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_heat_colors():
    assert heat_color(0.0) == "#f0496e" and heat_color(50.0) == "#ebb839" and heat_color(100.0) == "#0cd79f"
    assert heat_color(float("nan")) == "#ffffff"


def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("LC_BENCH_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (LC_BENCH_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return path


@pytest.mark.browser
def test_in_headless_chromium(runs, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    folder = tmp_path / "out"
    write_outputs(build_leaderboard(runs), runs, folder, per_cell=20)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto((folder / "leaderboard.html").as_uri())
            # The hostile output is shown as text and never runs
            page.locator("details.drilldown").first.evaluate("node => { node.open = true; }")
            for details in page.locator("details").all():
                details.evaluate("node => { node.open = true; }")
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert page.get_by_text("window.__pwned = 1", exact=False).count() >= 1
            assert page.locator("pre.output img").count() == 0
            # Sorting the overall table by the 1k column, both ways
            table = page.locator("#table-overall")
            models = lambda: table.locator("tbody tr td:first-child").all_inner_texts()  # noqa: E731
            assert models() == ["m", "z-model"]
            header = table.locator("th", has_text="1k")
            header.click()  # ascending: z-model (50.0) before m (mean of niah 90 and vt 50 = 70)
            assert header.get_attribute("aria-sort") == "ascending" and models() == ["z-model", "m"]
            header.click()
            assert header.get_attribute("aria-sort") == "descending" and models() == ["m", "z-model"]
            # The family table sorts by task name too, and the plots are inline SVG
            ruler = page.locator("#table-ruler")
            ruler.locator("th", has_text="task").click()
            tasks = ruler.locator("tbody tr td:nth-child(2)").all_inner_texts()
            assert tasks == sorted(tasks, key=str.lower)
            assert page.locator(".plots svg").count() == 2
            assert page.locator("table.heat").count() == 1
            assert errors == []
            page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
        finally:
            browser.close()
    assert (folder / "screenshot.png").stat().st_size > 10_000


def test_longbench_e_buckets_in_the_page(tmp_path):
    rows = [Row("a", 100.0, 4096, task="qasper", bucket="0-4k"), Row("b", 0.0, 4096, task="qasper", bucket="8k+")]
    qasper = TASKS.get("longbench_qasper")
    run = write_run(tmp_path / "r", rows, reports={"qasper": TaskReport(family=qasper.family, axes=qasper.report)})
    html = render_html(build_leaderboard([run]), [run])
    assert 'id="table-buckets-1"' in html and ">100.0</td>" in html and 'title="n=0">–</td>' in html
