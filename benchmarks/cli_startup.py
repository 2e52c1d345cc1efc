"""How long the `lc-bench` command takes to answer before it does any work.

Target (issue 13): `lc-bench --help`, `lc-bench gate --help` and `lc-bench tasks` within 1.5x of
the baseline, `python -c "import typer, rich"` (the two libraries every typer CLI pays for),
measured in the same run on the same machine. Each command runs in a fresh process, several times,
after one warm-up run; the table shows the median wall time and its ratio to the baseline's.
`lc-bench tasks` is measured with its listing cache warm (the warm-up builds it, as a user's first
call does; lc_bench/task_listing.py): a cold listing costs about 0.3 s more.

Two reference rows show what typer itself costs on top of the baseline, whatever the command
does: a one-command typer app answering `--help` and `CMD --help` (newer typer validates every
option through pydantic, which it imports for any subcommand). It prints, never asserts.

    python benchmarks/cli_startup.py [--runs 9] [--profile]

Bytecode caching is on (PYTHONDONTWRITEBYTECODE is dropped), as on a user's machine: the warm-up
writes lc_bench's .pyc files. `--profile` also lists each command's slowest top-level imports
(`python -X importtime`), which is where a regression usually comes from.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
CONSOLE_SCRIPT = Path(sys.executable).with_name("lc-bench")
COMMANDS = [
    ("lc-bench --help", ["--help"]),
    ("lc-bench gate --help", ["gate", "--help"]),
    ("lc-bench tasks", ["tasks"]),
    ("lc-bench runners", ["runners"]),
    ("lc-bench --version", ["--version"]),
]
# the smallest typer app with one command and the same settings as lc-bench's
BARE_TYPER_APP = """
import typer

app = typer.Typer(add_completion=False, rich_markup_mode=None)

@app.callback()
def main() -> None:
    "Options."

@app.command()
def command(path: str, number: float = 2.0, flag: bool = False) -> None:
    "One command."

app()
"""


def median_wall(argv: list[str], runs: int) -> float:
    """Median seconds of `runs` fresh processes, after one warm-up run (disk cache, .pyc files)."""
    subprocess.run(argv, capture_output=True, check=True, env=ENV)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def slowest_imports(command_args: list[str], count: int = 10) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the slowest top-level imports, from -X importtime."""
    argv = [sys.executable, "-X", "importtime", "-m", "lc_bench.cli", *command_args]
    result = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not name[1:].startswith(" "):  # deeper indentation marks a nested import: top level only
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--profile", action="store_true", help="also list each command's slowest imports")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare_typer_app.py"
        bare.write_text(BARE_TYPER_APP)
        baseline = median_wall([sys.executable, "-c", "import typer, rich"], args.runs)
        rows = [("import typer, rich (baseline)", baseline)]
        rows += [(f"bare typer app {' '.join(a)} (reference)", median_wall([sys.executable, str(bare), *a], args.runs))
                 for a in (["--help"], ["command", "--help"])]
        rows += [(label, median_wall([str(CONSOLE_SCRIPT), *argv], args.runs)) for label, argv in COMMANDS]
    width = max(len(label) for label, _ in rows)
    print(f"{'command':<{width}} {'median s':>9} {'ratio':>7}")
    for label, wall in rows:
        print(f"{label:<{width}} {wall:>9.3f} {wall / baseline:>7.2f}")
    if args.profile:
        for label, command_args in COMMANDS:
            print(f"\n{label}: slowest top-level imports (cumulative ms)")
            for micros, name in slowest_imports(command_args):
                print(f"    {micros / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
