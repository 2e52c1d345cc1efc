"""Error types that map to the CLI's exit codes.

`UsageError` is bad input (exit 2): it carries one line that names the problem, and is raised
before anything is written. Everything else that goes wrong during generation is recorded, not raised.
"""


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""

    exit_code = 2
