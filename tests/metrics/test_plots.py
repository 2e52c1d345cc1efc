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
