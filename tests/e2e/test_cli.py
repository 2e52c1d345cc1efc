"""The `lc-bench` command end to end on the tiny model.

Most tests call the command in this process (`lc_bench`: `cli.main` with patched argv, output
captured); every other test module uses the same helper. Runs with the vllm or ray runner go to a
subprocess (their engine or cluster would outlive the call), and a handful of tests run the
installed console script on purpose (`lc_bench_process`): the entry point, exit codes 0 and 2 with
the one line on stderr, and a run killed mid-way.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from lc_bench import __version__, cli
from tests.helpers import HANG_GUARD_S

CONSOLE_SCRIPT = Path(sys.executable).with_name("lc-bench")
# runners whose engine or cluster outlives the call (vLLM's, Ray's) run in a process of their own
OWN_PROCESS_RUNNERS = {"vllm", "ray"}


def lc_bench_process(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    """`lc-bench ARGS` through the installed console script, in a subprocess."""
    result = subprocess.run([str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=HANG_GUARD_S)
    if check_rc is not None:
        assert result.returncode == check_rc, result.stderr + result.stdout
    return result


def lc_bench(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    """`lc-bench ARGS` in this process, or in a subprocess for a runner that outlives the call."""
    if _runner(args) in OWN_PROCESS_RUNNERS:
        return lc_bench_process(*args, check_rc=check_rc)
    return lc_bench_in_process(*args, check_rc=check_rc)


def lc_bench_in_process(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    """`cli.main` with patched argv: exit code, stdout and stderr as a subprocess would give them."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "argv", ["lc-bench", *args]), redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        else:
            raise AssertionError("cli.main() returned without sys.exit")
    result = subprocess.CompletedProcess(["lc-bench", *args], code, stdout.getvalue(), stderr.getvalue())
    if check_rc is not None:
        assert result.returncode == check_rc, result.stderr + result.stdout
    return result


def _runner(args: tuple[str, ...]) -> str | None:
    """The runner the command line asks for (the last --runner wins, as in the option parser)."""
    runner = None
    for index, arg in enumerate(args):
        if arg == "--runner" and index + 1 < len(args):
            runner = args[index + 1]
        elif arg.startswith("--runner="):
            runner = arg.partition("=")[2]
    return runner


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]


def one_line(stderr: str) -> bool:
    return stderr.count("\n") == 1 and "Traceback" not in stderr


# --- the console script, in real subprocesses ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "niah_singel"], "unknown task 'niah_singel'; did you mean niah_single_3"),  # the library's
        (["--bogus"], "No such option: --bogus"),  # the option parser's
    ],
)
def test_console_script_bad_input_is_one_line_exit_2(tiny_model_dir, tmp_path, args, message):
    out = tmp_path / "results"
    result = lc_bench_process("run", "--runner", "echo", "--model", str(tiny_model_dir), *args, "--out", str(out),
                              check_rc=2)
    assert result.stderr.startswith("lc-bench: error: ") and message in result.stderr and one_line(result.stderr)
    assert not out.exists()


def test_console_script_version_help_and_no_command():
    assert lc_bench_process("--version").stdout == f"lc-bench {__version__}\n"
    assert lc_bench_process("-h").stdout == lc_bench_process("--help").stdout
    assert "Commands:" in lc_bench_process().stdout and "gate" in lc_bench_process("gate", "-h").stdout


def test_kill_mid_run_then_resume_loses_and_duplicates_nothing(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    args = ["run", "--runner", "echo", "--model", str(tiny_model_dir), "--lengths", "1k,2k",
            "--depths", "0:100:10", "--samples", "2", "--out", str(out), "--name", "r"]
    slowly = ["--runner-opt", "delay_s=0.05"]  # a window to kill in; the delay is not part of the resume key
    process = subprocess.Popen([str(CONSOLE_SCRIPT), *args, *slowly], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    path = out / "r" / "records.jsonl"
    deadline = time.time() + HANG_GUARD_S
    while time.time() < deadline and process.poll() is None:
        if path.exists() and path.read_text().count("\n") >= 5:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = path.read_text().count("\n")
    assert 5 <= killed_at < 40
    with path.open("a") as handle:  # as if the kill had landed mid-write
        handle.write('{"key": "torn')
    result = lc_bench(*args)
    rows = records(out / "r")
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == 40
    assert f"{killed_at} already recorded, {40 - killed_at} generated" in result.stdout
    assert (out / "r" / "records.torn").exists()


# --- the same command in this process ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "niah_singel"], "unknown task 'niah_singel'; did you mean niah_single_3"),
        (["--runner", "vlm"], "unknown runner 'vlm'"),
        (["--lengths", "4x"], "malformed length '4x'"),
        (["--lengths", "64k"], "exceeds the context window"),  # the tiny model's window is 32k
        (["--model", "/no/such/model"], "model path not found: /no/such/model"),
        (["--depths", "150"], "depth '150' is outside 0-100"),
        (["--runner-opt", "colour=red"], "option colour"),
        (["--runner-opt", "colour"], "malformed --runner-opt 'colour': use NAME=VALUE"),
        (["--task-opt", "niah.haystack=/no/corpus"], "haystack '/no/corpus' not found"),
        (["--task-opt", "haystack=noise"], "malformed --task-opt 'haystack': use TASK.PARAM=VALUE"),
        (["--samples", "0"], "--samples must be at least 1"),
        (["--suite", "rular"], "unknown suite 'rular'"),
        (["--bogus"], "No such option: --bogus"),
        (["--runner", "vllm"], "the vllm runner needs vLLM"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tiny_model_dir, tmp_path, args, message):
    out = tmp_path / "results"
    model = [] if "--model" in args else ["--model", str(tiny_model_dir)]
    # in this process even for --runner vllm: the refusal comes before any engine starts
    result = lc_bench_in_process("run", "--runner", "echo", *model, *args, "--out", str(out), check_rc=2)
    assert message in result.stderr and one_line(result.stderr)
    assert not out.exists()


def test_unwritable_output_dir(tiny_model_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = lc_bench("run", "--runner", "echo", "--model", str(tiny_model_dir), "--out", str(blocker), check_rc=2)
    assert "not a directory" in result.stderr and one_line(result.stderr)


def test_run_then_leaderboard(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    result = lc_bench(
        "run", "--runner", "echo", "--model", str(tiny_model_dir), "--lengths", "1k,2k",
        "--depths", "0:100:3", "--samples", "2", "--out", str(out), "--name", "r",
    )
    run_dir = out / "r"
    rows = records(run_dir)
    assert len(rows) == 2 * 3 * 2
    assert {r["target_length"] for r in rows} == {1024, 2048}
    assert all(r["scores"]["string_match_all"] == 100.0 for r in rows)
    row = ("| tiny-llama0 | niah | 100.0 (61.0–100.0) | 100.0 (61.0–100.0) | 100.0 (72.4–100.0) | 2k | 2k | 100.0 "
           "| 100.0 | 12 | 0 | 0 |")
    assert row in result.stdout
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["model"] == "tiny-llama0" and manifest["seed"] == 0
    assert manifest["chat_template_sha256"] and manifest["ended"]
    assert "transformers" in manifest["package_versions"]
    board = lc_bench("leaderboard", str(run_dir))
    assert board.stdout.startswith((run_dir / "leaderboard.md").read_text())
    assert f"open {run_dir / 'leaderboard.html'}" in board.stdout


def test_errors_are_recorded_counted_and_exit_1_then_retried(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    args = ["run", "--runner", "echo", "--model", str(tiny_model_dir), "--lengths", "1k",
            "--depths", "0,25,50,75", "--out", str(out), "--name", "r"]
    first = lc_bench(*args, "--runner-opt", "fail_every=2", check_rc=1)
    assert "2 errors" in first.stdout
    rows = records(out / "r")
    assert len(rows) == 4 and sum(r["completion"]["error"] is not None for r in rows) == 2
    assert "| 1k | 1k | 100.0 | 100.0 | 2 | 2 | 0 |" in first.stdout  # 2 scored, 2 errors
    second = lc_bench(*args)  # like an API outage that has passed: only the failures rerun
    assert "2 already recorded, 2 generated, 0 errors" in second.stdout
    assert "| 1k | 1k | 100.0 | 100.0 | 4 | 0 | 0 |" in second.stdout
    assert len(records(out / "r")) == 6  # append-only: the failed attempts stay on disk


def test_same_command_resumes_without_regenerating(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    args = ["run", "--runner", "echo", "--model", str(tiny_model_dir), "--lengths", "1k", "--out", str(out)]
    lc_bench(*args)
    again = lc_bench(*args)
    assert "3 already recorded, 0 generated" in again.stdout
    more = lc_bench(*args[:-2], "--depths", "0,50,100,25", "--out", str(out))
    assert "3 already recorded, 1 generated" in more.stdout


def test_quick_suite_writes_leaderboard_and_heatmaps(tiny_model_dir, tmp_path):
    out = tmp_path / "results"
    result = lc_bench("run", "--suite", "quick", "--runner", "echo", "--model", str(tiny_model_dir),
                      "--lengths", "2k,3000", "--out", str(out), "--name", "q", "--plots")
    run_dir = out / "q"
    rows = records(run_dir)
    assert {r["task"] for r in rows} == {"niah_single_2", "niah_multikey_2", "niah_multivalue", "vt", "cwe",
                                         "fwe", "qa_1"}
    assert len(rows) == 7 * 2
    assert sorted(p.name for p in (run_dir / "plots").glob("heatmap_*.png")) == [
        "heatmap_tiny-llama0_niah_multikey_2.png",
        "heatmap_tiny-llama0_niah_multivalue.png",
        "heatmap_tiny-llama0_niah_single_2.png",
    ]
    assert "## Score by depth and length" in result.stdout
    assert "| tiny-llama0 | vt | 100.0 (20.7–100.0) | 100.0 (20.7–100.0) |" in result.stdout  # echo repeats the chain


def test_a_suite_can_choose_the_runner_and_its_options(tiny_model_dir, tmp_path):
    suite = tmp_path / "team.yaml"
    suite.write_text("tasks: [niah]\nlengths: 1k\ndepths: '50'\nrunner: constant\nrunner_options: {text: hello}\n")
    out = tmp_path / "results"
    lc_bench("run", "--suite", str(suite), "--model", str(tiny_model_dir), "--out", str(out), "--name", "s")
    assert [r["completion"]["text"] for r in records(out / "s")] == ["hello"]
    assert records(out / "s")[0]["runner"] == "constant"
    # a runner on the command line wins, and the suite's options (for its own runner) are dropped
    lc_bench("run", "--suite", str(suite), "--runner", "echo", "--model", str(tiny_model_dir), "--out", str(out),
             "--name", "e")
    assert records(out / "e")[0]["runner"] == "echo" and records(out / "e")[0]["completion"]["text"] != "hello"


def test_listing_commands():
    tasks = lc_bench("tasks").stdout
    for name in ["niah", "niah_single_1", "niah_multikey_3", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2"]:
        assert f"\n{name}: " in "\n" + tasks
    assert "    num_values: int = 1" in tasks and "    alpha: float = 2.0" in tasks
    assert "ruler: RULER (NVIDIA) 13 synthetic tasks" in lc_bench("suites").stdout
    runners = lc_bench("runners").stdout
    for name in ["hf", "vllm", "openai", "ray", "echo", "constant"]:
        assert f"\n{name}: " in "\n" + runners
    assert "endpoints = []" in runners and "PydanticUndefined" not in runners


# --- help, --version and the task listing's filters ---------------------------------------------

COMMANDS = ("tasks", "runners", "suites", "run", "leaderboard", "show", "gate", "judge")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_h_help_and_version(command):
    short = lc_bench_in_process(command, "-h")
    assert short.stdout.startswith(f"Usage: lc-bench {command} ") and short.stdout == lc_bench_in_process(
        command, "--help").stdout
    assert "-h, --help" in short.stdout and "--version" in short.stdout
    assert lc_bench_in_process(command, "--version").stdout == f"lc-bench {__version__}\n"


def test_help_text_is_printed_literally():
    """No markup or emoji codes: `0:100:11` stays as typed (rich would turn `:100:` into an emoji)."""
    texts = [lc_bench_in_process("-h").stdout, *(lc_bench_in_process(command, "-h").stdout for command in COMMANDS)]
    run_help = " ".join(texts[1 + COMMANDS.index("run")].split())  # help wraps at the terminal's width
    assert "0,50,100 | 0:100:11 | sigmoid:11 | random" in run_help
    assert "lc-bench suites" in run_help and "--suite NAME|FILE.yaml" in run_help
    assert "--runner-opt NAME=VALUE" in run_help and "--task-opt TASK.NAME=VALUE" in run_help
    for text in texts:
        assert text.isascii(), [char for char in text if not char.isascii()]
        assert "[bold" not in text and "\x1b[" not in text
        # every option names what it takes (NAME=VALUE, N, FILE), not a Python type such as <str>
        assert not [line for line in text.splitlines() if line.lstrip().startswith("--") and "<" in line]
    gate_help = texts[1 + COMMANDS.index("gate")]
    for option in ("--max-error-rate", "--strict-config", "--format", "--output"):
        assert option in gate_help


def test_tasks_filters():
    everything = lc_bench("tasks").stdout
    assert everything.splitlines()[-1].endswith("narrow with: lc-bench tasks --family NAME | --search TEXT")
    ruler = lc_bench("tasks", "--family", "ruler").stdout
    assert "\nniah_single_1: " in "\n" + ruler and "\ntsort: " not in "\n" + ruler
    assert len(ruler.splitlines()) < len(everything.splitlines())
    found = lc_bench("tasks", "--search", "uuid").stdout
    names = [line.split(":")[0] for line in found.splitlines() if not line.startswith(" ")]
    assert "niah_multikey_3" in names and "tsort" not in names
    assert "  # " in found  # parameters keep their one-line descriptions
    assert lc_bench("tasks", "--family", "ruler", "--search", "zzz-none").stdout == (
        "no task matches --family 'ruler' and --search 'zzz-none' (lc-bench tasks lists them all)\n")
    bad = lc_bench("tasks", "--family", "rular", check_rc=2)
    assert bad.stderr.startswith("lc-bench: error: unknown task family 'rular'; did you mean ruler?")
    assert one_line(bad.stderr)


def test_png_plots_are_written_on_request_and_then_kept_up_to_date(tiny_model_dir, tmp_path):
    # a run or a leaderboard writes the tables and the HTML page (which draws its own plots); PNGs
    # cost matplotlib, so they come with --plots, and once made every rewrite of the tables redoes them
    out = tmp_path / "results"
    args = ["run", "--runner", "echo", "--model", str(tiny_model_dir), "--lengths", "1k", "--out", str(out),
            "--name", "p"]
    first = lc_bench(*args)
    run_dir = out / "p"
    assert (run_dir / "leaderboard.html").exists() and not (run_dir / "plots").exists()
    assert "wrote 4 files" in first.stdout
    assert "wrote 4 files" in lc_bench("leaderboard", str(run_dir)).stdout
    assert not (run_dir / "plots").exists()
    lc_bench("leaderboard", str(run_dir), "--plots")
    assert sorted(p.name for p in (run_dir / "plots").glob("*.png"))
    lc_bench(*args, "--plots")
    made = {p.name: p.stat().st_mtime_ns for p in (run_dir / "plots").glob("*.png")}
    assert "length_overall.png" in made and any(name.startswith("heatmap_") for name in made)
    lc_bench(*args[:-4], "--depths", "0,50,100,25", "--out", str(out), "--name", "p")  # one more cell, no flag
    again = {p.name: p.stat().st_mtime_ns for p in (run_dir / "plots").glob("*.png")}
    assert again.keys() == made.keys() and all(again[name] > made[name] for name in made)
