"""lc_bench: how well does a model use 4k, 32k, 128k tokens of context?"""

__version__ = "0.1.0"
