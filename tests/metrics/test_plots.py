import pandas as pd

from lc_bench.metrics.plots import binned, write_heatmaps


def table(depths):
    return pd.DataFrame(
        [{"model": "m/x", "task": "niah", "depth": d, "target_length": length, "score": s}
         for d, s in depths for length in (1024, 2048)]
    )


def test_a_png_per_model_and_task(tmp_path):
    paths = write_heatmaps(table([(0.0, 100.0), (50.0, 0.0), (100.0, 50.0)]), tmp_path)
    assert [p.name for p in paths] == ["heatmap_m-x_niah.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 5000


def test_random_depths_are_binned_to_tens():
    depths = [(float(d), 100.0 if d < 50 else 0.0) for d in range(0, 100, 3)]
    result = binned(table(depths))
    assert set(result["depth"]) <= {float(x) for x in range(0, 101, 10)}
    assert result.set_index(["depth", "target_length"]).loc[(0.0, 1024), "score"] == 100.0


def test_no_depths_no_files(tmp_path):
    empty = pd.DataFrame(columns=["model", "task", "depth", "target_length", "score"])
    assert write_heatmaps(empty, tmp_path) == []


def test_binning_weights_by_sample_count():
    depth_table = pd.DataFrame(
        [
            {"model": "m", "task": "niah", "depth": 1.0, "target_length": 1024, "score": 100.0, "n": 3},
            {"model": "m", "task": "niah", "depth": 4.0, "target_length": 1024, "score": 0.0, "n": 1},
            *[{"model": "m", "task": "niah", "depth": float(d), "target_length": 1024, "score": 0.0, "n": 1}
              for d in range(20, 100, 7)],
        ]
    )
    result = binned(depth_table).set_index(["depth", "target_length"])
    assert result.loc[(0.0, 1024), "score"] == 75.0 and result.loc[(0.0, 1024), "n"] == 4


def test_length_plot_svg_is_inline_and_deterministic():
    from lc_bench.metrics.plots import figure_svg, length_figure

    series = {"<model>": {1024: 90.0, 2048: 50.0}}
    first = figure_svg(length_figure(series, "t", 85.6))
    again = figure_svg(length_figure(series, "t", 85.6))
    assert first.startswith("<svg") and first == again
    assert "&lt;model&gt;" in first and "<model>" not in first


def _svg_series(figure: str, model: str):
    from xml.etree import ElementTree

    root = ElementTree.fromstring(figure)  # the inline figure is well-formed XML
    series = [g for g in root.iter("g") if g.get("data-model") == model]
    assert len(series) == 1
    return series[0]


def _of_class(node, tag: str, name: str) -> list:
    return [child for child in node.iter(tag) if child.get("class") == name]


def test_length_svg_draws_interval_bands_and_leaves_gaps():
    from lc_bench.metrics.plots import Point, length_svg

    series = {
        "<gappy>": {1024: Point(90.0, 80.0, 95.0), 2048: Point(85.0, 75.0, 92.0), 8192: Point(60.0, 50.0, 70.0)},
        "full": {length: Point(70.0, 60.0, 80.0) for length in (1024, 2048, 4096, 8192)},
    }
    figure = length_svg(series, "<title>", 85.6)
    assert figure == length_svg(series, "<title>", 85.6)  # deterministic
    assert "&lt;gappy&gt;" in figure and "<gappy>" not in figure and "<title>:" not in figure

    gappy = _svg_series(figure, "<gappy>")
    # 4k is missing: the line stops at 2k, the 8k point stands alone with its interval as a bar
    assert [p.get("data-lengths") for p in _of_class(gappy, "path", "line")] == ["1024 2048"]
    bands = _of_class(gappy, "path", "band")
    assert [b.get("data-lengths") for b in bands] == ["1024 2048", "8192"]
    assert bands[0].get("d").endswith("Z") and bands[0].get("d").count("L") == 3  # high 1k, 2k, low 2k, 1k
    assert bands[1].get("d").count("V") == 1  # the lone point's bar
    assert [c.get("data-length") for c in _of_class(gappy, "circle", "point")] == ["1024", "2048", "8192"]
    assert "95% CI 80–95" in "".join(gappy.itertext())

    full = _svg_series(figure, "full")
    assert [p.get("data-lengths") for p in _of_class(full, "path", "line")] == ["1024 2048 4096 8192"]
    assert len(_of_class(full, "path", "band")) == 1


def test_band_height_follows_the_interval():
    from lc_bench.metrics.plots import Point, length_svg

    figure = length_svg({"m": {1024: Point(50.0, 40.0, 60.0), 2048: Point(50.0, 0.0, 100.0)}}, "t", None)
    band = _of_class(_svg_series(figure, "m"), "path", "band")[0].get("d")
    ys = [float(point.split()[1]) for point in band.strip("MZ").split("L")]
    # high 1k, high 2k, low 2k, low 1k: the 2k interval spans the whole axis, the 1k one a fifth of it
    assert ys[1] < ys[0] < ys[3] < ys[2] and abs((ys[2] - ys[1]) - 5 * (ys[3] - ys[0])) < 0.5
    assert "threshold" not in figure


def test_segments_split_at_missing_and_nan_lengths():
    from lc_bench.metrics.plots import Point, segments

    points = {1: Point(1.0), 2: Point(2.0), 3: Point(float("nan")), 5: Point(5.0), 6: Point(6.0)}
    assert segments([1, 2, 3, 4, 5, 6], points) == [[1, 2], [5, 6]]
    assert segments([1, 2], {}) == []


def test_the_png_line_plot_has_bands_and_gaps():
    from lc_bench.metrics.plots import length_figure

    series = {"a": {1024: 90.0, 2048: 80.0, 8192: 40.0}, "b": {1024: 70.0, 2048: 60.0, 4096: 50.0, 8192: 30.0}}
    bands = {"a": {1024: (85.0, 95.0), 2048: (70.0, 88.0), 8192: (30.0, 50.0)}}
    figure = length_figure(series, "t", 85.6, bands=bands)
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    ys = list(lines["a"].get_ydata())
    assert ys[:2] == [90.0, 80.0] and ys[2] != ys[2] and ys[3] == 40.0  # NaN at 4k: the line breaks there
    assert len(axes.collections) == 1  # one shaded band, for the model that has intervals
    import matplotlib.pyplot as plt

    plt.close(figure)
