"""Every validation error names the field, the bad value and the closest valid option: one line,
exit 2 at the command line, nothing written."""

from __future__ import annotations

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS, TASKS, close_matches, did_you_mean
from lc_bench.runners.base import parse_options
from lc_bench.tasks.base import make_task
from tests.e2e.test_cli import lc_bench_in_process, one_line


def message(call) -> str:  # noqa: ANN001 - any callable
    with pytest.raises(UsageError) as exc:
        call()
    text = str(exc.value)
    assert "\n" not in text and "validation error" not in text
    return text


def test_close_matches_ignore_case_and_keep_the_spelling():
    assert close_matches("RULR", ["ruler", "quick"]) == ["ruler"]
    assert did_you_mean("delay", ["delay_s", "text"]) == "; did you mean delay_s?"
    assert did_you_mean("zzz", ["delay_s", "text"]) == ""


@pytest.mark.parametrize(("runner", "options", "expected"), [
    ("echo", {"delay": 1}, "runner echo: option delay is unknown (did you mean delay_s?)"),
    ("echo", {"colour": "red"}, "runner echo: option colour is unknown (options: text, delay_s, fail_every, script)"),
    ("hf", {"batch_sise": 2}, "runner hf: option batch_sise is unknown (did you mean batch_size, max_batch_tokens?)"),
    ("hf", {"dtype": "bf16"}, "runner hf: option dtype: should be 'auto', 'float32', 'bfloat16' or 'float16' "
                              "(got 'bf16'; did you mean bfloat16?)"),
    ("hf", {"batch_size": "aut"}, "runner hf: option batch_size: should be 'auto' (got 'aut'; did you mean auto?)"),
    ("hf", {"batch_size": 0}, "runner hf: option batch_size: should be greater than or equal to 1 (got 0)"),
    ("echo", {"delay_s": "x"}, "runner echo: option delay_s: should be a valid number, unable to parse string as a "
                               "number (got 'x')"),
])
def test_runner_options(runner, options, expected):
    assert message(lambda: parse_options(RUNNERS.get(runner), options)) == expected


@pytest.mark.parametrize("script", [[{"contains": "a", "reply": "b"}], {"rules": []}, ' [{"contains": "a"}]'])
def test_inline_json_where_a_file_belongs(script):
    text = message(lambda: parse_options(RUNNERS.get("echo"), {"script": script}))
    assert text.startswith("runner echo: option script wants a path to a JSON file, not inline JSON (got ")


@pytest.mark.parametrize(("task", "params", "expected"), [
    ("niah", {"hay_stack": "noise"}, "task niah: hay_stack: unknown parameter (did you mean haystack, "
                                     "repeat_haystack?)"),
    ("niah", {"key_type": "word"}, "task niah: key_type: should be 'words', 'numbers' or 'uuids' (got 'word'; "
                                   "did you mean words?)"),
    ("niah", {"num_values": "x"}, "task niah: num_values: should be a valid integer, unable to parse string as an "
                                  "integer (got 'x')"),
    ("tsort", {"length_basis": "windw"}, "task tsort: length_basis: should be 'window' or 'prompt' (got 'windw'; "
                                         "did you mean window?)"),
])
def test_task_parameters(task, params, expected):
    assert message(lambda: make_task(TASKS.get(task), params)) == expected


def test_an_unknown_parameter_far_from_any_lists_them():
    text = message(lambda: make_task(TASKS.get("niah"), {"zzz": 1}))
    assert text.startswith("task niah: zzz: unknown parameter (parameters: haystack, key_type, ")


def test_suites():
    from lc_bench.suites.loader import load_suite, parse_suite

    assert message(lambda: load_suite("rulr")).startswith("unknown suite 'rulr' (did you mean ruler, ruler-paper?; "
                                                          "shipped: ")
    assert "list them with lc-bench suites" in message(lambda: load_suite("zzz"))
    assert message(lambda: parse_suite("taks: [niah]\n", "s.yaml")).startswith(
        "suite s.yaml is malformed: unknown key(s) taks (did you mean tasks?; valid keys: description, ")
    assert "lenghts: did you mean lengths?; samplez: did you mean samples?; valid keys:" in message(
        lambda: parse_suite("tasks: [niah]\nlenghts: 1k\nsamplez: 2\n", "s.yaml"))
    assert message(lambda: parse_suite("tasks: [niah]\ngeneration: {temprature: 0.5}\n", "s.yaml")) == (
        "suite s.yaml is malformed: unknown key 'generation.temprature' (did you mean temperature?; valid: "
        "temperature, top_p)")
    assert message(lambda: parse_suite("tasks: niah\nsamples: x\n", "s.yaml")) == (
        "suite s.yaml is malformed: tasks: should be a valid list (got 'niah'); samples: should be a valid integer, "
        "unable to parse string as an integer (got 'x')")


def test_run_config_keys():
    from lc_bench.config import RunConfig

    assert message(lambda: RunConfig(sed=1)) == "unknown key 'sed' (did you mean seed?)"


def test_an_api_model_name_without_a_tokenizer_says_what_to_add():
    from lc_bench.models import resolve_model

    assert message(lambda: resolve_model("gpt-4o-mini")) == (
        "model path not found: gpt-4o-mini; API models need --tokenizer (tiktoken[:ENCODING] or a local/hub "
        "tokenizer folder) to count tokens")
    assert message(lambda: resolve_model("./no/such/folder")) == "model path not found: ./no/such/folder"


# --- at the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["--runner", "echo", "--runner-opt", "delay=1"], "runner echo: option delay is unknown (did you mean delay_s?)"),
    (["--runner", "echo", "--runner-opt", 'script=[{"contains": "a", "reply": "b"}]'],
     "runner echo: option script wants a path to a JSON file, not inline JSON"),
    (["--runner", "echo", "--task-opt", "niah.hay_stack=noise"], "task niah: hay_stack: unknown parameter (did you "
                                                                  "mean haystack"),
    (["--runner", "echo", "--suite", "rulr"], "unknown suite 'rulr' (did you mean ruler"),
    (["--runner", "openai", "--model", "gpt-4o-mini"], "model path not found: gpt-4o-mini; API models need "
                                                        "--tokenizer (tiktoken[:ENCODING] or a local/hub tokenizer "
                                                        "folder) to count tokens"),
])
def test_the_command_line_says_it_in_one_line(tmp_path, args, expected):
    out = tmp_path / "results"
    result = lc_bench_in_process("run", *args, "--lengths", "1k", "--out", str(out), check_rc=2)
    assert result.stderr.startswith("lc-bench: error: ") and expected in result.stderr and one_line(result.stderr)
    assert not out.exists()


def test_a_bad_suite_file_names_its_keys(tmp_path):
    suite = tmp_path / "team.yaml"
    suite.write_text("tasks: [niah]\nsamples: 0\nlenghts: 1k\n")
    result = lc_bench_in_process("run", "--suite", str(suite), "--runner", "echo", "--out", str(tmp_path / "o"),
                                 check_rc=2)
    assert "unknown key(s) lenghts (did you mean lengths?;" in result.stderr and one_line(result.stderr)
    suite.write_text("tasks: [niah]\nsamples: 0\n")
    result = lc_bench_in_process("run", "--suite", str(suite), "--runner", "echo", "--out", str(tmp_path / "o"),
                                 check_rc=2)
    assert "samples: should be greater than or equal to 1 (got 0)" in result.stderr and one_line(result.stderr)
    assert not (tmp_path / "o").exists()


def test_a_fixture_fallback_warning_is_said_once_per_run(capsys):
    from lc_bench.tasks.datafiles import one_warning_per_run, warn_fixture_fallback

    with one_warning_per_run():  # a run: every task and chunk reading the source hits the fallback
        for _ in range(3):
            warn_fixture_fallback("hub/x", ConnectionError("offline"), "fixture")
        warn_fixture_fallback("hub/y", ConnectionError("offline"), "fixture")
    warn_fixture_fallback("hub/x", ConnectionError("offline"), "fixture")  # outside a run: always said
    err = capsys.readouterr().err
    assert err.count("hub/x unavailable") == 2 and err.count("hub/y unavailable") == 1
