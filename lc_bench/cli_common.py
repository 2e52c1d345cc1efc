"""What every `lc-bench` command shares (here so command modules beside cli.py can use it too)."""

from __future__ import annotations

from typing import Annotated

import typer

from lc_bench import __version__


def print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"lc-bench {__version__}")
        raise typer.Exit()


# every command takes --version too (as it takes -h / --help), so it answers wherever it is typed
Version = Annotated[
    bool, typer.Option("--version", help="print the version and exit", callback=print_version, is_eager=True)
]
