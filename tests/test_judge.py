"""`lc-bench judge` sampling and retries: a plan's lc_bench and paper settings (LongWriter's quality
judge samples at temperature 0.5 and tries up to five times while its verdict does not parse), how
the setting is chosen per record, and what a retried record keeps."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from lc_bench.errors import UsageError
from lc_bench.judge import judge_run, sampling_of
from lc_bench.schema import Completion, Request
from lc_bench.tasks.generation_judges import LongGenChecks, LongWriteQuality

VERDICT = {"Analysis": "fine", "Relevance": 5, "Accuracy": 4, "Coherence": 3, "Clarity": 5, "Breadth and Depth": 2,
           "Reading Experience": 4}
GOOD = "```json\n" + json.dumps(VERDICT) + "\n```"


class JunkThenVerdict:
    """A fake judge: the first `junk` tries of each prompt get an unparsable reply, later tries a
    valid verdict. Keeps every request it is sent."""

    name = "fake"

    def __init__(self, junk: int) -> None:
        self.junk = junk
        self.tries: dict[str, int] = {}
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]:
        for request in requests:
            self.requests.append(request)
            prompt = request.messages[0].content
            self.tries[prompt] = self.tries.get(prompt, 0) + 1
            text = f"junk {self.tries[prompt]}" if self.tries[prompt] <= self.junk else GOOD
            yield Completion(key=request.key, text=text)


def _latest(run_dir: Path) -> list[dict]:
    latest: dict[str, dict] = {}
    for line in (run_dir / "records.jsonl").read_text().splitlines():
        row = json.loads(line)
        latest[row["key"]] = row
    return list(latest.values())


@pytest.fixture
def longwrite_run(tiny_model_dir, tmp_path) -> Path:
    from lc_bench.api import evaluate

    return evaluate(tasks="longwrite", runner="echo", model=str(tiny_model_dir), lengths="2k", samples=2,
                    out=tmp_path, write_outputs=False).run_dir


def test_longwriters_setting_is_declared_as_the_plans_paper_setting():
    plan = LongWriteQuality()
    setting, sampling = sampling_of(plan, {"protocol": "lc_bench"}, "paper")
    assert setting == "paper"
    assert sampling == {"temperature": 0.5, "top_p": 1.0, "seed": 0, "max_new_tokens": 1024,
                        "use_chat_template": True, "attempts": 5}
    # auto: the published setting for records made under a paper protocol, lc_bench's otherwise
    assert sampling_of(plan, {"protocol": "longbench-write-paper"})[0] == "paper"
    assert sampling_of(plan, {"protocol": "lc_bench"}) == ("lc_bench", {**sampling, "temperature": 0.0, "attempts": 1})
    assert sampling_of(plan, {})[0] == "lc_bench"  # records from before protocols
    assert sampling_of(plan, {"protocol": "x-paper"}, "lc_bench")[0] == "lc_bench"
    # a plan without a published setting keeps its own, whatever is asked
    assert sampling_of(LongGenChecks(), {"protocol": "x-paper"}, "paper")[0] == "lc_bench"


def test_unparsable_verdicts_are_retried_with_the_paper_setting_and_recorded(longwrite_run):
    judge = JunkThenVerdict(junk=2)
    summary = judge_run(longwrite_run, judge, "judge-model", ("longwrite",), setting="paper")
    assert (summary.judged, summary.failures, summary.skipped, summary.retried) == (2, 0, 0, 4)
    assert len(judge.requests) == 6  # two samples, three tries each
    assert {r.params.temperature for r in judge.requests} == {0.5}
    assert sorted(r.params.seed for r in judge.requests) == [0, 0, 1, 1, 2, 2]  # a new seed per try
    assert all(r.max_new_tokens == 1024 and r.use_chat_template for r in judge.requests)
    assert len({r.key for r in judge.requests}) == 6
    for row in _latest(longwrite_run):
        assert row["judge"]["attempts"] == 3 and row["judge"]["setting"] == "paper"
        assert row["judge"]["earlier_verdicts"] == [["junk 1"], ["junk 2"]]
        assert row["judge"]["verdicts"] == [GOOD] and row["judge"]["parsed"]["Relevance"] == 5.0
        assert row["judge"]["sampling"]["temperature"] == 0.5 and row["judge"]["sampling"]["attempts"] == 5
        assert row["scores"]["quality"] == pytest.approx((23 / 6 - 1) * 25)
    manifest = json.loads((longwrite_run / "manifest.json").read_text())
    invocation = [inv["judge"] for inv in manifest["invocations"] if "judge" in inv][-1]
    assert invocation["setting"] == "paper" and invocation["retried"] == 4 and invocation["judged"] == 2


def test_five_unparsable_tries_are_a_failure(longwrite_run):
    judge = JunkThenVerdict(junk=10)
    summary = judge_run(longwrite_run, judge, "judge-model", ("longwrite",), setting="paper")
    assert (summary.judged, summary.failures, summary.retried) == (0, 2, 8)
    assert len(judge.requests) == 10  # five tries per sample, then it is given up
    for row in _latest(longwrite_run):
        assert row["judge"]["parsed"] is None and "quality" not in row["scores"]
        assert row["judge"]["attempts"] == 5 and row["judge"]["verdicts"] == ["junk 5"]
        assert [texts[0] for texts in row["judge"]["earlier_verdicts"]] == ["junk 1", "junk 2", "junk 3", "junk 4"]


def test_lc_benchs_own_setting_is_greedy_with_one_try_and_a_rerun_judges_what_is_left(longwrite_run):
    judge = JunkThenVerdict(junk=1)
    summary = judge_run(longwrite_run, judge, "judge-model", ("longwrite",))  # auto: the run is lc_bench's
    assert (summary.judged, summary.failures, summary.retried) == (0, 2, 0)
    assert {(r.params.temperature, r.params.seed) for r in judge.requests} == {(0.0, 0)}
    assert all(row["judge"]["setting"] == "lc_bench" and "earlier_verdicts" not in row["judge"]
               for row in _latest(longwrite_run))
    again = judge_run(longwrite_run, judge, "judge-model", ("longwrite",))  # the fake now answers well
    assert (again.judged, again.failures, again.skipped) == (2, 0, 0)
    # judged under lc_bench's setting; the paper setting is another judgement, so it grades again
    paper = judge_run(longwrite_run, JunkThenVerdict(junk=0), "judge-model", ("longwrite",), setting="paper")
    assert (paper.judged, paper.skipped) == (2, 0)
    assert judge_run(longwrite_run, JunkThenVerdict(junk=0), "judge-model", ("longwrite",), "paper").skipped == 2


def test_a_runner_error_is_not_retried(longwrite_run):
    from lc_bench.runners.base import error_completion

    class Failing(JunkThenVerdict):
        def generate(self, requests: Sequence[Request]) -> Iterator[Completion]:
            for request in requests:
                self.requests.append(request)
                yield error_completion(request.key, RuntimeError("down"))

    judge = Failing(junk=0)
    summary = judge_run(longwrite_run, judge, "judge-model", ("longwrite",), setting="paper")
    assert (summary.failures, summary.retried, len(judge.requests)) == (2, 0, 2)


def test_an_unknown_setting_is_refused(longwrite_run):
    with pytest.raises(UsageError, match="judge setting 'best' is not one of auto, paper, lc_bench"):
        judge_run(longwrite_run, JunkThenVerdict(junk=0), "judge-model", ("longwrite",), setting="best")


def test_a_plans_system_prompt_goes_first_as_a_system_message():
    from lc_bench.judge import _request_groups

    sampling = {"temperature": 0.0, "top_p": 1.0, "seed": 0, "max_new_tokens": 16, "use_chat_template": True,
                "attempts": 1}
    owner: dict = {}
    groups = _request_groups(["a", "b"], {"a": ["judge a"], "b": ["judge b"]}, {"a": "You are a judge.", "b": None},
                             {"a": ("lc_bench", sampling), "b": ("lc_bench", sampling)}, 1, owner)
    by_key = {request.key: request for group in groups for request in group}
    first, second = (by_key[key] for key in sorted(by_key))
    assert [(m.role, m.content) for m in first.messages] == [("system", "You are a judge."), ("user", "judge a")]
    assert [(m.role, m.content) for m in second.messages] == [("user", "judge b")]
    assert set(owner.values()) == {("a", 0), ("b", 0)}


def test_a_raw_judge_prompt_takes_the_system_prompt_as_its_first_paragraph():
    from lc_bench.judge import _judge_messages

    (only,) = _judge_messages("You are a judge.", "judge this", templated=False)
    assert (only.role, only.content) == ("user", "You are a judge.\n\njudge this")
    assert [m.role for m in _judge_messages(None, "judge this", templated=True)] == ["user"]
