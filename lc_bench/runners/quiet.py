"""Transformers' progress bars off wherever a runner loads a model through it.

The CLI only sets environment variables (importing transformers there would slow every command),
and transformers reads them once, when it is first imported: by a library caller, a Ray worker or
a test, that may be before they were set. Weight-loading bars would then draw over the run's own
progress bar, so the runners that load transformers turn its bars off themselves.
"""

from __future__ import annotations


def quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
