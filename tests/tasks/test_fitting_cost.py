"""Fitting cost: after the first sample of a cell, each sample costs about two full-size encodes,
and what a build learns from earlier samples never changes a sample."""

from __future__ import annotations

import pytest

import lc_bench.tasks.fitting as fitting
from lc_bench.lengths import input_budget
from lc_bench.registry import TASKS
from lc_bench.tasks.base import BuildContext, make_task

LENGTH = 8192
CASES = [
    # (task, params, largest shortfall in tokens: the unit's granularity, full encodes per sample
    # after the first: fwe's unit adds words in lumps and its samples differ most, so it takes more)
    ("niah_single_1", {}, 40, 2),
    ("niah_single_2", {}, 0, 2),
    ("niah_multikey_2", {}, 40, 2),
    ("niah_multikey_3", {}, 120, 2),
    ("vt", {}, 40, 2),
    ("cwe", {}, 40, 2),
    ("fwe", {}, 16, 4),
    ("qa_1", {"data": "fixture"}, 400, 2),
    ("niah_multivalue", {}, 0, 2),
    ("tsort", {}, 8, 2),
]


class Counted:
    """Counts full-size encodes (at least 3/4 of the budget: not cwe's fixed part, more than half of
    it at 8k) made through a tokenizer."""

    def __init__(self, tokenizer, monkeypatch, budget):
        self.sizes: list[int] = []
        self.budget = budget
        original = tokenizer.encode_with_offsets

        def counted(*args, **kwargs):
            result = original(*args, **kwargs)
            self.sizes.append(len(result[0]))
            return result

        monkeypatch.setattr(tokenizer, "encode_with_offsets", counted)

    def full(self) -> int:
        return sum(1 for size in self.sizes if size >= self.budget * 3 // 4)


def build(tokenizer, name, params, samples):
    task = make_task(TASKS.get(name), params)
    return task.build(BuildContext(tokenizer, (LENGTH,), (), samples, 0))


@pytest.mark.parametrize(("name", "params", "slack", "most"), CASES)
def test_samples_after_the_first_cost_about_two_full_encodes(tiny_tokenizer, monkeypatch, name, params, slack, most):
    build(tiny_tokenizer, name, params, 1)  # haystack caches warm
    first = build(tiny_tokenizer, name, params, 1)
    budget = input_budget(LENGTH, first[0].max_new_tokens)
    counter = Counted(tiny_tokenizer, monkeypatch, budget)
    build(tiny_tokenizer, name, params, 1)
    one = counter.full()
    counter.sizes.clear()
    samples = build(tiny_tokenizer, name, params, 5)
    later = (counter.full() - one) / 4
    assert one <= 5, f"{name}: {one} full encodes for the first sample"
    assert later <= most, f"{name}: {later} full encodes per later sample"
    for sample in samples:
        assert budget - slack <= sample.input_tokens <= budget, sample.sample_id
        assert tiny_tokenizer.count(sample.messages, answer_prefix=sample.answer_prefix) == sample.input_tokens


@pytest.mark.parametrize(("name", "params", "slack", "most"), CASES)
def test_what_a_build_learns_never_changes_a_sample(tiny_tokenizer, monkeypatch, name, params, slack, most):
    learnt = build(tiny_tokenizer, name, params, 4)
    original = fitting.fit_to_budget

    def forgetful(*args, **kwargs):
        kwargs["memory"] = None
        return original(*args, **kwargs)

    for module in ("niah", "synthetic", "qa", "tsort"):
        monkeypatch.setattr(f"lc_bench.tasks.{module}.fit_to_budget", forgetful)
    alone = build(tiny_tokenizer, name, params, 4)
    assert [s.messages for s in learnt] == [s.messages for s in alone]
    assert [s.input_tokens for s in learnt] == [s.input_tokens for s in alone]


def test_bestanswer_counted_piece_by_piece_chooses_what_the_measured_search_chooses(tiny_tokenizer, monkeypatch):
    import lc_bench.tasks.bestanswer as bestanswer

    counted = build(tiny_tokenizer, "bestanswer", {}, 4)
    calls: list[object] = []
    original = bestanswer.predicted_choice

    def checked(*args, **kwargs):
        choice = original(*args, **kwargs)
        calls.append(choice)
        return choice

    monkeypatch.setattr(bestanswer, "predicted_choice", checked)
    assert [s.messages for s in build(tiny_tokenizer, "bestanswer", {}, 4)] == [s.messages for s in counted]
    assert calls and all(choice is not None for choice in calls)  # every sample was counted, none searched
    monkeypatch.setattr(bestanswer, "predicted_choice", lambda *args, **kwargs: None)
    searched = build(tiny_tokenizer, "bestanswer", {}, 4)
    assert [s.messages for s in searched] == [s.messages for s in counted]
    assert [s.input_tokens for s in searched] == [s.input_tokens for s in counted]
    for sample in counted:
        budget = input_budget(LENGTH, sample.max_new_tokens)
        assert tiny_tokenizer.count(sample.messages) == sample.input_tokens <= budget


def test_bestanswer_encodes_each_prompt_about_once(tiny_tokenizer, monkeypatch):
    first = build(tiny_tokenizer, "bestanswer", {}, 1)
    budget = input_budget(LENGTH, first[0].max_new_tokens)
    counter = Counted(tiny_tokenizer, monkeypatch, budget)
    build(tiny_tokenizer, "bestanswer", {}, 6)
    assert sum(counter.sizes) <= 2 * 6 * budget  # a whole encode each, plus the pieces not yet counted
    assert counter.full() <= 6 + 1  # one whole-prompt check per sample (+ the first sample's pieces)
