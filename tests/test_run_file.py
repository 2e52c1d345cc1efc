"""Run files (`lc-bench run --config run.yaml`, `lc_bench.evaluate(config=...)`): every option of
`lc-bench run` in one YAML file; flags over the file over the suite over the defaults; unknown keys
refused with "did you mean"; one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import lc_bench
from lc_bench.errors import UsageError
from lc_bench.run_config import resolve_run_config
from lc_bench.run_file import RunFile, load_run_file, parse_run_file

# what `lc-bench run` passes when the user gives no flag (with --config, allow_fixtures and out
# default to None: cli.py's run command must declare them so)
CLI_DEFAULTS = dict(
    suite=None, tasks=None, lengths=None, depths=None, samples=None, seed=None, runner=None, runner_opt=[],
    task_opt=[], haystack=None, model=None, tokenizer=None, max_new_tokens=None, temperature=None, top_p=None,
    allow_fixtures=None, out=None, name=None,
)

EVERY_KEY = """\
model: ./my-model
runner: openai
runner_options: {base_url: "http://127.0.0.1:9000/v1", concurrency: 4}
endpoints: [http://a:8000/v1, http://b:8000/v1]
tokenizer: tiktoken
suite: quick
tasks: [niah_single_2, vt]
lengths: [1k, 2048]
depths: 0:100:3
samples: 2
seed: 7
task_options: {niah_single_2: {haystack: noise}}
haystack: /corpus
max_new_tokens: 64
temperature: 0.5
top_p: 0.9
allow_fixtures: true
out: elsewhere
name: nightly
"""


def write(tmp_path: Path, text: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def resolve(config_file: Path | None = None, **flags):
    return resolve_run_config(**{**CLI_DEFAULTS, **flags}, config_file=config_file)


def test_every_key_of_lc_bench_run_reaches_the_config(tmp_path):
    config = resolve(write(tmp_path, EVERY_KEY))
    assert config.model == "./my-model" and config.runner == "openai" and config.tokenizer == "tiktoken"
    assert config.runner_options == {
        "base_url": "http://127.0.0.1:9000/v1", "concurrency": 4, "endpoints": "http://a:8000/v1,http://b:8000/v1",
    }
    assert config.tasks == ("niah_single_2", "vt") and config.lengths == (1024, 2048)
    assert config.depths == (0.0, 50.0, 100.0) and config.samples_per_cell == 2 and config.seed == 7
    assert config.task_params == {"niah_single_2": {"haystack": "noise"}}  # its own haystack wins over `haystack`
    assert config.max_new_tokens == 64 and config.temperature == 0.5 and config.top_p == 0.9
    assert config.allow_fixtures is True and config.out_dir == Path("elsewhere") and config.run_name == "nightly"
    assert set(RunFile.model_fields) >= {
        "model", "runner", "runner_options", "tokenizer", "suite", "tasks", "lengths", "depths", "samples", "seed",
        "task_options", "haystack", "max_new_tokens", "temperature", "top_p", "allow_fixtures", "out", "name",
    }


def test_flags_win_over_the_file_which_wins_over_the_suite(tmp_path):
    path = write(tmp_path, "suite: quick\nlengths: 8k\nsamples: 3\nrunner: echo\nname: from-file\n")
    config = resolve(path)
    assert config.tasks[0] == "niah_single_2" and config.depths == ()  # the suite's (depths: random)
    assert config.lengths == (8192,) and config.samples_per_cell == 3 and config.run_name == "from-file"
    config = resolve(path, lengths="1k", samples=1, name="from-flag", seed=5, tasks="vt")
    assert config.lengths == (1024,) and config.samples_per_cell == 1 and config.run_name == "from-flag"
    assert config.seed == 5 and config.tasks == ("vt",)
    assert resolve(path, suite="ruler").samples_per_cell == 3  # the file's samples over the flag's suite's
    # no file: as before
    assert resolve(None, suite="quick").lengths == (1024, 2048, 4096)
    assert resolve(None).out_dir == Path("results") and resolve(None).allow_fixtures is False


def test_a_flag_that_says_no_or_zero_still_wins(tmp_path):
    path = write(tmp_path, "allow_fixtures: true\nseed: 9\ntemperature: 0.7\nout: file-out\n")
    config = resolve(path, allow_fixtures=False, seed=0, temperature=0.0, out="flag-out")
    assert config.allow_fixtures is False and config.seed == 0 and config.temperature == 0.0
    assert config.out_dir == Path("flag-out")


def test_runner_and_task_options_merge_layer_by_layer(tmp_path):
    suite = write(tmp_path, "tasks: [niah_single_2]\nrunner: echo\nrunner_options: {delay_s: 1, text: s}\n"
                  "task_params: {niah_single_2: {haystack: noise}}\n", "suite.yaml")
    path = write(tmp_path, f"suite: {suite}\nrunner_options: {{delay_s: 2}}\n"
                 "task_options: {niah_single_2: {num_keys: 2}}\n")
    config = resolve(path, runner_opt=["text=flag"], task_opt=["niah_single_2.haystack=essay"])
    assert config.runner == "echo" and config.runner_options == {"delay_s": 2, "text": "flag"}
    assert config.task_params == {"niah_single_2": {"haystack": "essay", "num_keys": 2}}
    # a file's runner options belong to its runner: another runner on the command line drops them
    other = write(tmp_path, "runner: openai\nrunner_options: {base_url: 'http://h:1/v1'}\n", "other.yaml")
    assert resolve(other, runner="echo").runner_options == {}
    assert resolve(other, runner="openai").runner_options == {"base_url": "http://h:1/v1"}
    # the file's task options for tasks that --tasks left out are dropped, as a suite's are
    assert "niah_single_2" not in resolve(path, tasks="vt").task_params


def test_yaml_forms_of_lengths_and_depths(tmp_path):
    assert resolve(write(tmp_path, "lengths: 4096\ndepths: [0, 100]\n")).lengths == (4096,)
    assert resolve(write(tmp_path, "depths: 10:50:5\n")).depths == (10.0, 20.0, 30.0, 40.0, 50.0)  # not base 60
    assert resolve(write(tmp_path, "depths: random\ntasks: niah_single_1\n")).depths == ()
    assert load_run_file(write(tmp_path, "")) == RunFile()  # an empty file sets nothing
    assert parse_run_file("lengths: 4k:16k\nseed: 0x10\n", "r.yaml").lengths == "4k:16k"


@pytest.mark.parametrize(("text", "message"), [
    ("max-new-tokens: 5\n", r"unknown key 'max-new-tokens'; did you mean max_new_tokens\?"),
    ("runner_opt: {a: 1}\n", r"unknown key 'runner_opt'; did you mean runner_options"),
    ("sample: 3\n", r"did you mean samples"),
    ("colour: red\n", r"unknown key 'colour' \(valid keys: model, runner, "),
    ("- model\n", r"it holds a list, not a mapping"),
    ("tasks: [niah\n", r"not valid YAML \(.* at line 2"),
    ("samples: many\n", r"samples: should be a valid integer.*\(got 'many'\)"),
    ("lengths: {a: 1}\n", r"lengths: give a comma-separated text or a list"),
    ("task_options: {niah: 3}\n", r"task_options.niah: should be a valid dictionary"),
    ("model: !!python/object:os.system ls\n", r"not valid YAML"),
])
def test_bad_files_are_one_line(tmp_path, text, message):
    with pytest.raises(UsageError, match=message) as caught:
        resolve(write(tmp_path, text))
    assert "\n" not in str(caught.value) and str(caught.value).startswith(f"config file {tmp_path / 'run.yaml'}")


def test_a_runner_option_value_is_never_quoted(tmp_path):
    secret = "sk-live-0123456789abcdef"
    with pytest.raises(UsageError, match="runner_options: should be a valid dictionary") as caught:
        resolve(write(tmp_path, f"runner_options: {secret}\n"))
    assert secret not in str(caught.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(UsageError, match="config file .*none.yaml not found"):
        resolve(tmp_path / "none.yaml")
    with pytest.raises(UsageError, match="is not a file"):
        resolve(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00model")
    with pytest.raises(UsageError, match="not UTF-8"):
        resolve(binary)


def test_evaluate_with_a_run_file(tiny_model_dir, tmp_path):
    path = write(tmp_path, f"model: {tiny_model_dir}\nrunner: echo\ntasks: niah_single_1\nlengths: [1024]\n"
                 f"depths: [0, 100]\nout: {tmp_path / 'results'}\nname: from-file\n")
    result = lc_bench.evaluate(config=path, name="from-arg", write_outputs=False)
    assert result.run_dir == tmp_path / "results" / "from-arg"
    assert result.summary.generated == 2 and list(result.records["score"]) == [100.0, 100.0]
    # bad input in the file: nothing written
    bad = write(tmp_path, f"model: {tiny_model_dir}\nrunner: echo\ntasks: niah_single_l\nout: {tmp_path / 'x'}\n",
                "bad.yaml")
    with pytest.raises(UsageError, match="did you mean .*niah_single_1"):
        lc_bench.evaluate(config=bad)
    assert not (tmp_path / "x").exists()
