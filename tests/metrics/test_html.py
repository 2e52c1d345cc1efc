"""leaderboard.html: escaped, self-contained, and working in real headless Chromium."""

import os
import re
import shutil
from contextlib import contextmanager

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


def unmarked(text):
    """A row label without the mark an uneven average may carry ("ruler avg ‡")."""
    return re.sub(r"\s*‡$", "", text)


def group_tasks(table):
    """The task column of a family table, a list per model group (tbody)."""
    groups = table.evaluate(
        "t => Array.from(t.tBodies).map(b => Array.from(b.rows).map(r => r.cells[1].textContent.trim()))"
    )
    return [[unmarked(text) for text in group] for group in groups]


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
            # fully expanded, the page stays short: a tab per length, three samples at a time (was 7,558 px)
            assert page.evaluate("document.documentElement.scrollHeight") < 4500
            # Sorting the overall table by the 1k column, both ways
            table = page.locator("#table-overall")
            models = lambda: table.locator("tbody tr td:first-child").all_inner_texts()  # noqa: E731
            assert models() == ["m", "z-model"]
            header = table.locator("th", has_text="1k")
            header.click()  # ascending: z-model (50.0) before m (mean of niah 90 and vt 50 = 70)
            assert header.get_attribute("aria-sort") == "ascending" and models() == ["z-model", "m"]
            header.click()
            assert header.get_attribute("aria-sort") == "descending" and models() == ["m", "z-model"]
            # The family table sorts by task name within each model, its average staying last
            ruler = page.locator("#table-ruler")
            ruler.locator("th", has_text="task").click()
            assert group_tasks(ruler) == [["niah", "vt", "ruler avg"], ["niah", "ruler avg"]]
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


@contextmanager
def chromium_page(html_path, width=1280):
    """A page of headless Chromium at `width` px with `html_path` loaded; script errors fail the test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(html_path.as_uri())
            yield page
            assert errors == []
        finally:
            browser.close()


def visible_texts(page, selector):
    return page.locator(selector).evaluate_all(
        "nodes => nodes.filter(n => n.getClientRects().length > 0).map(n => n.textContent.trim())"
    )


@pytest.mark.browser
def test_filters_sorting_and_drilldown_in_chromium(runs, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    write_outputs(build_leaderboard(runs), runs, tmp_path, per_cell=20)
    with chromium_page(tmp_path / "leaderboard.html") as page:
        overall_models = lambda: visible_texts(page, "#table-overall tbody tr td:first-child")  # noqa: E731
        ruler_rows = lambda: [unmarked(x) for x in visible_texts(page, "#table-ruler tbody tr td:nth-child(2)")]  # noqa: E731
        # every link of the table of contents leads to an element of the page, every section is linked
        links = page.locator("nav .toc a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links and all(link.startswith("#") for link in links)
        assert page.evaluate("ids => ids.every(id => document.getElementById(id) !== null)", [x[1:] for x in links])
        sections = page.locator("main h2[id]").evaluate_all("hs => hs.map(h => '#' + h.id)")
        assert sections == links
        # the page fits a 1280 px window
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280

        # sorting by a length keeps each model's family average at the bottom of its group
        ruler = page.locator("#table-ruler")
        header = ruler.locator("th", has_text="1k")
        header.click()  # ascending: vt (50) before niah (90)
        assert group_tasks(ruler) == [["vt", "niah", "ruler avg"], ["niah", "ruler avg"]]
        header.click()
        assert group_tasks(ruler) == [["niah", "vt", "ruler avg"], ["niah", "ruler avg"]]
        assert ruler.locator("tbody tr:last-child.average").count() == 2

        # the text filter hides the rows that do not contain it (an average stays with its rows)
        status = page.locator("#filter-status")
        page.locator("#filter-text").fill("vt")
        expect(status).to_contain_text("text “vt”")  # the filter waits for typing to pause
        assert ruler_rows() == ["vt", "ruler avg"] and overall_models() == []
        assert page.locator("#table-overall").evaluate("t => t.closest('.table-wrap').hasAttribute('data-empty')")
        page.locator("#filter-text").fill("")
        expect(status).to_have_text("Showing everything.")
        assert overall_models() == ["m", "z-model"] and len(ruler_rows()) == 5

        # the model filter hides its rows, its plot lines and its samples
        page.locator("input[name='model'][value='z-model']").uncheck()
        assert overall_models() == ["m"] and ruler_rows() == ["niah", "vt", "ruler avg"]
        assert not page.locator(".plot g.series[data-model='z-model']").first.is_visible()
        assert page.locator(".plot g.series[data-model='m']").first.is_visible()
        assert visible_texts(page, "details.drilldown > summary b") == ["m · niah", "m · vt"]
        # the task filter: vt's rows go, the average stays with niah
        page.locator("input[name='task'][value='vt']").uncheck()
        assert ruler_rows() == ["niah", "ruler avg"]
        # the length filter hides that length's columns
        page.locator("input[name='length'][value='2048']").uncheck()
        assert visible_texts(page, "#table-overall thead th")[:3] == ["model", "1k", "avg"]
        page.locator("button[type='reset']").click()
        expect(status).to_have_text("Showing everything.")
        assert overall_models() == ["m", "z-model"] and len(visible_texts(page, "#table-overall thead th")) == 8

        # the drill-down: a tab per length, three samples at a time, "show more" adds three
        group = page.locator("details.drilldown", has=page.locator("summary", has_text="m · niah")).first
        group.locator(":scope > summary").click()
        group.locator(".tab", has_text="2k").click()
        panel = group.locator(".panel[data-length='2048']")
        shown = lambda: len(visible_texts(page, "details.drilldown .panel[data-length='2048'] tr.sample"))  # noqa: E731
        assert panel.is_visible() and not group.locator(".panel[data-length='1024']").is_visible()
        assert shown() == 3
        more = panel.locator("button.more")
        assert more.inner_text() == "show 3 more (8 not shown)"
        more.click()
        assert shown() == 6 and more.inner_text() == "show 3 more (5 not shown)"
        more.click()
        more.click()
        assert shown() == 11 and not more.is_visible()


@pytest.mark.browser
def test_a_wide_run_fits_and_its_plot_has_bands_and_gaps(tmp_path):
    """Twelve lengths, a long model name, an unbroken 3,000-character output and a hostile model
    name: the page still fits 1280 px (the tables scroll inside their frames), nothing runs."""
    lengths = [1024 * 2**i for i in range(12)]
    hostile_model = '<img src=x onerror="window.__pwned = 3">'
    long_model = "organisation-with-a-long-name/model-" + "x" * 150
    rows = [Row(f"f{length}", 100.0 - i * 8, length, model=long_model) for i, length in enumerate(lengths)]
    rows += [Row(f"g{length}", 90.0, length, model="gappy") for length in lengths if length != 4096]
    rows += [Row("h", 50.0, 1024, model=hostile_model, output="y" * 3000)]
    run = write_run(tmp_path / "r", rows)
    write_outputs(build_leaderboard([run]), [run], tmp_path / "out", per_cell=5)
    with chromium_page(tmp_path / "out" / "leaderboard.html") as page:
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        frame = page.locator("#table-ruler").evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert frame[0] > frame[1]  # the family table scrolls inside its frame
        assert page.evaluate("typeof window.__pwned") == "undefined" and page.evaluate("document.images.length") == 0
        assert page.locator("input[name='model']").evaluate_all("boxes => boxes.map(b => b.value)") == sorted(
            ["gappy", hostile_model, long_model])
        # the overall plot: a band per run of lengths, and no line (nor point) at gappy's missing 4k
        gappy = page.locator("#plots-overall g.series[data-model='gappy']")
        assert gappy.locator("path.band").count() == 2
        assert gappy.locator("path.line").evaluate_all("ps => ps.map(p => p.getAttribute('data-lengths'))") == [
            "1024 2048", " ".join(str(x) for x in lengths[3:])]
        assert gappy.locator("circle[data-length='4096']").count() == 0
        assert gappy.locator("circle.point").count() == 11
        full = page.locator(f"#plots-overall g.series[data-model='{long_model}']")
        assert full.locator("path.line").count() == 1 and full.locator("path.band").count() == 1
        # sticky headers (within the frame, which scrolls when the table is taller than the window)
        assert page.locator("#table-ruler thead th").first.evaluate("th => getComputedStyle(th).position") == "sticky"
        # a sticky first column: scrolled right, the model name stays at the frame's left edge
        wrap = page.locator("#table-ruler").evaluate_handle("t => t.parentElement")
        wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
        left = page.locator("#table-ruler tbody tr:first-child td:first-child").first.evaluate(
            "c => Math.round(c.getBoundingClientRect().left - c.closest('.table-wrap').getBoundingClientRect().left)")
        assert left <= 1


def test_the_drilldown_holds_every_sample_a_panel_per_length(runs):
    """The page shows each cell's samples a tab and a few at a time; the file still holds them all."""
    html = render_html(build_leaderboard(runs), runs, per_cell=20)
    assert html.count('class="sample"') == 45 and html.count('<div class="panel') == 6
    assert html.count("<details class=\"drilldown\"") == 3  # m · niah, m · vt, z-model · niah


def test_the_compiled_template_is_kept_and_a_damaged_or_unwritable_cache_only_costs_the_compile(
    runs, tmp_path, monkeypatch
):
    """Compiling the page's template is a third of a short run's leaderboard step: it is compiled
    once per machine. A damaged cached file or a cache path that cannot be written changes nothing
    on the page."""
    import re as regex

    def page() -> str:  # the page's generation time is its only varying part
        return regex.sub(r"(?i)generated [^<]*", "", render_html(build_leaderboard(runs), runs))

    monkeypatch.setenv("LC_BENCH_CACHE", str(tmp_path / "cache"))
    first = page()
    cached = list((tmp_path / "cache" / "templates").rglob("*.cache"))
    assert len(cached) == 1 and cached[0].stat().st_size > 1000
    assert page() == first  # from the compiled file
    cached[0].write_bytes(b"j2" + b"\x00" * 40)  # damaged: compiled afresh, and written again
    assert page() == first and cached[0].stat().st_size > 1000
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LC_BENCH_CACHE", str(blocker))
    assert page() == first
