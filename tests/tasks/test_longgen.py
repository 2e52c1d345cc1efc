"""Long generation: LongBench-Write's length score by hand (English and Chinese), shape checks,
structured-output and many-question scoring, budgets and warnings, the output-length axis."""

from __future__ import annotations

import json

import pytest

from lc_bench.registry import TASKS
from lc_bench.scoring.longgen import count_words, length_score, shape_checks, split_units
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longgen import longgen_scores
from lc_bench.tasks.manyq import manyq_scores
from tests.e2e.test_cli import lc_bench, records


def test_word_count_is_longwriters():
    # English words are [a-zA-Z]+ runs between word boundaries: "don't" is two, "42" is none
    assert count_words("Hello, world! don't 42") == 4
    # one per CJK character; CJK punctuation does not count
    assert count_words("你好，世界。") == 4
    assert count_words("Hello 你好 world") == 4
    assert count_words("") == 0


@pytest.mark.parametrize(
    ("required", "produced", "expected"),
    [
        (1000, 1000, 100.0),
        (1000, 2500, 50.0),  # over: 1 - (2.5 - 1) / 3
        (1000, 4000, 0.0),  # 4x is the overshoot limit
        (1000, 5000, 0.0),
        (1000, 500, 50.0),  # under: 1 - (2 - 1) / 2
        (900, 300, 0.0),  # 1/3 is the undershoot limit
        (300, 200, 75.0),  # 1 - (1.5 - 1) / 2
        (300, 400, pytest.approx(100 * (1 - (4 / 3 - 1) / 3))),
        (1000, 0, 0.0),  # the original divides by zero; the formula's limit is 0
    ],
)
def test_length_score_by_hand(required, produced, expected):
    assert length_score(required, produced) == expected


def test_length_score_on_chinese_text():
    reply = "秋" * 150 + "，天气很好。"  # 150 + 4 characters, punctuation not counted
    assert count_words(reply) == 154
    assert length_score(300, count_words(reply)) == pytest.approx(100 * (1 - (300 / 154 - 1) / 2))


def test_shape_checks_by_hand():
    checks = shape_checks("a b c d a b c d a b c d")
    # 9 four-grams of which 4 distinct: 5 repeat an earlier one; 11 bigrams, 4 distinct
    assert checks["repeated_4gram"] == pytest.approx(500 / 9)
    assert checks["distinct_2"] == pytest.approx(400 / 11)
    assert checks["words"] == 12.0 and checks["chars"] == 23.0
    assert shape_checks("one two three four five")["repeated_4gram"] == 0.0


def test_structured_output_scores():
    checks = [{"kind": "once", "units": [2], "keyword": "pottery"},
              {"kind": "range", "units": [1, 2, 3], "keyword": "marathon"},
              {"kind": "periodic", "units": [1, 3], "keyword": "grandmother"}]
    output = ("#*# Week 1\nMarathon training and a call to Grandmother.\n"
              "#*# Week 2\nA pottery class; more marathon miles.\n"
              "#*# Week 2\nA duplicate header is ignored: grandmother.\n"
              "#*# Week 4\nNothing planned.")
    assert set(split_units(output, "Week")) == {1, 2, 4}
    scores = longgen_scores(output, "Week", 4, checks)
    # units 1, 2, 4 of 4 present; once 1/1; range: weeks 1, 2 of 1-3; periodic: week 1 of 1, 3
    assert scores["completion"] == 75.0 and scores["once"] == 100.0
    assert scores["range"] == pytest.approx(200 / 3) and scores["periodic"] == 50.0
    assert scores["average"] == pytest.approx((100 + 200 / 3 + 50) / 3)


def test_many_questions_scores():
    reply = "Answer_1: 12\nAnswer_2: the total is 1,234\nAnswer_3: 7\nAnswer_5: 9\nAnswer_1: 99"
    scores = manyq_scores(reply, ["12", "1234", "8", "4", "9", "10"])
    assert scores["accuracy"] == 50.0  # 1, 2, 5 of 6 (the second "Answer_1" is ignored)
    assert scores["answered"] == pytest.approx(400 / 6) and scores["accuracy_answered"] == 75.0
    assert (scores["first_third"], scores["middle_third"], scores["last_third"]) == (100.0, 0.0, 50.0)


def test_budgets_use_the_window_and_warn_when_it_is_too_small(tiny_tokenizer, capsys):
    task = make_task(TASKS.get("longwrite"), {})
    samples = task.build(BuildContext(tiny_tokenizer, (2048,), (), 13, 0))
    assert len(samples) == 13 and all(s.input_tokens + s.max_new_tokens == 2048 for s in samples)
    assert "ask for more output than the window can hold" in capsys.readouterr().err
    assert sum(not s.metadata["window_holds_request"] for s in samples) >= 5  # 2k words and up
    capped = make_task(TASKS.get("longwrite"), {"max_output_tokens": 300}).build(
        BuildContext(tiny_tokenizer, (2048,), (), 2, 0))
    assert all(s.max_new_tokens == 300 for s in capped)


def test_longwrite_loads_longbench_write_files(tiny_tokenizer, tmp_path):
    data = tmp_path / "longbench_write.jsonl"
    data.write_text(json.dumps({"prompt": "Write 700 words on rivers.", "type": "Popular Science", "length": 700}))
    sample = make_task(TASKS.get("longwrite"), {"data": str(data)}).build(
        BuildContext(tiny_tokenizer, (4096,), (), 5, 0))[0]
    assert sample.references == ("700",) and sample.metadata["requested_label"] == "700"


def test_the_suite_end_to_end_with_perfect_and_imperfect_replies(tiny_model_dir, tiny_tokenizer, tmp_path):
    """Replies built to satisfy each generated prompt score 100; the output-length axis appears."""
    longgen = make_task(TASKS.get("longgen"), {"units": [4]})
    rules = []
    for sample in longgen.build(BuildContext(tiny_tokenizer, (2048,), (), 2, 0)):
        unit, checks = sample.metadata["unit"], sample.metadata["checks"]
        blocks = []
        for number in range(1, sample.metadata["units"] + 1):
            events = " and ".join(c["keyword"] for c in checks if number in c["units"])
            blocks.append(f"#*# {unit} {number}\nA quiet stretch{' with ' + events if events else ''}.")
        rules.append({"contains": sample.messages[0].content, "reply": "\n".join(blocks)})
    rules.append({"contains": "100-word product description", "reply": "word " * 100})
    rules.append({"contains": "200-word news brief", "reply": "word " * 500})  # 2.5x over: 50
    rules.append({"contains": "Question_1:", "reply": "Answer_1: 0"})
    script = tmp_path / "script.json"
    script.write_text(json.dumps(rules))
    result = lc_bench("run", "--suite", "longgen", "--task-opt", "longgen.units=[4]", "--runner", "constant",
                      "--runner-opt", f"script={script}", "--model", str(tiny_model_dir), "--lengths", "2k",
                      "--samples", "2", "--out", str(tmp_path), "--name", "gen")
    rows = records(tmp_path / "gen")
    by_task = {}
    for row in rows:
        by_task.setdefault(row["task"], []).append(row)
    assert [r["scores"]["average"] for r in by_task["longgen"]] == [100.0, 100.0]
    assert all(r["scores"]["completion"] == 100.0 for r in by_task["longgen"])
    assert sorted(r["scores"]["length_score"] for r in by_task["longwrite"]) == [50.0, 100.0]
    assert all(r["scores"]["accuracy"] == 0.0 for r in by_task["manyq"])
    assert "## Score by requested output length" in result.stdout
    assert "| model | task | length | 100 | 200 | 320 |" in result.stdout  # longwrite 100/200, longgen 4 x 80
    board = json.loads((tmp_path / "gen" / "leaderboard.json").read_text())
    longgen_rows = [g for g in board["generation"] if g["task"] == "longgen"]
    assert longgen_rows == [{**longgen_rows[0], "requested": 320.0, "n": 2, "score": 100.0, "cut": 0.0}]
    assert 'id="table-generation"' in (tmp_path / "gen" / "leaderboard.html").read_text()


VERDICT = {"Analysis": "fine", "Relevance": 5, "Accuracy": 4, "Coherence": 3, "Clarity": 5, "Breadth and Depth": 2,
           "Reading Experience": 4}


def test_verdicts_parse_as_longwriter_parses_them():
    from lc_bench.tasks.generation_judges import parse_verdict, quality_scores

    fenced = "Here is my evaluation.\n```json\n" + json.dumps(VERDICT, indent=1) + "\n```"
    assert parse_verdict(fenced) == {k: float(v) for k, v in VERDICT.items() if k != "Analysis"}
    # (5+4+3+5+2+4)/6 = 23/6; (mean - 1) * 25
    assert quality_scores(parse_verdict(fenced))["quality"] == pytest.approx((23 / 6 - 1) * 25)
    assert quality_scores(parse_verdict(fenced))["quality_breadth_and_depth"] == 25.0
    assert parse_verdict(json.dumps({**VERDICT, "Clarity": 6})) is None  # outside 1-5
    assert parse_verdict(json.dumps({k: v for k, v in VERDICT.items() if k != "Coherence"})) is None
    assert parse_verdict("Relevance: 5, Accuracy: 4") is None


def test_judge_stage_grades_stores_and_resumes(tiny_model_dir, tmp_path):
    """A deterministic fake judge: one request gets a valid verdict, one an unparsable reply."""
    lc_bench("run", "--tasks", "longwrite", "--runner", "echo", "--model", str(tiny_model_dir), "--lengths", "2k",
             "--samples", "2", "--out", str(tmp_path), "--name", "w")
    script = tmp_path / "judge.json"
    script.write_text(json.dumps([
        {"contains": "100-word product description", "reply": "```json\n" + json.dumps(VERDICT) + "\n```"},
        {"contains": "200-word news brief", "reply": "I liked it."},
    ]))
    judge = ["judge", str(tmp_path / "w"), "--runner", "constant", "--runner-opt", f"script={script}",
             "--model", str(tiny_model_dir)]
    result = lc_bench(*judge)
    assert "judged 1 samples, 1 verdicts did not parse, 0 tries asked again, 0 already judged" in result.stdout
    lines = records(tmp_path / "w")
    assert len(lines) == 4  # two samples, each with its judged line appended
    latest = {row["key"]: row for row in lines}
    good = next(r for r in latest.values() if "product description" in r["metadata"]["request"])
    bad = next(r for r in latest.values() if "news brief" in r["metadata"]["request"])
    assert good["scores"]["quality"] == pytest.approx((23 / 6 - 1) * 25)
    assert good["scores"]["length_score"] == good["score"]  # the primary score is untouched
    assert good["judge"]["model"] and "<User Request>\n\nWrite a 100-word" in good["judge"]["prompts"][0]
    assert good["judge"]["parsed"]["Relevance"] == 5.0 and "```json" in good["judge"]["verdicts"][0]
    assert "quality" not in bad["scores"] and bad["judge"]["parsed"] is None
    assert bad["judge"]["verdicts"] == ["I liked it."]
    # rerunning grades only what did not parse
    again = lc_bench(*judge)
    assert "judged 0 samples, 1 verdicts did not parse, 0 tries asked again, 1 already judged" in again.stdout
    board = json.loads((tmp_path / "w" / "leaderboard.json").read_text())
    assert any(row["quality"] == pytest.approx((23 / 6 - 1) * 25) for row in board["generation"])
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())
    assert [inv["judge"]["failures"] for inv in manifest["invocations"] if "judge" in inv] == [1, 1]
    # LongWriter's own judge sampling: temperature 0.5, an unparsable verdict asked up to 5 times
    paper = lc_bench(*judge, "--setting", "paper")
    assert "judged 1 samples, 1 verdicts did not parse, 4 tries asked again, 0 already judged" in paper.stdout
    retried = {row["key"]: row for row in records(tmp_path / "w")}[bad["key"]]["judge"]
    assert retried["verdicts"] == ["I liked it."] and len(retried["earlier_verdicts"]) == 4
    assert retried["sampling"]["temperature"] == 0.5 and retried["setting"] == "paper"
    assert lc_bench(*judge, "--setting", "nonsense", check_rc=2).stderr.startswith("lc-bench: error: judge setting")


def test_a_judge_replaces_the_keyword_rule_for_structured_checks(tiny_model_dir, tiny_tokenizer, tmp_path):
    """Every unit mentions every keyword, so the rule scores 100; a judge that answers "no" to the
    range check's event and "yes" otherwise brings range to 0."""
    task = make_task(TASKS.get("longgen"), {"units": [4], "scenarios": ["diary"]})
    sample = task.build(BuildContext(tiny_tokenizer, (2048,), (), 1, 0))[0]
    checks = sample.metadata["checks"]
    keywords = " ".join(c["keyword"] for c in checks)
    reply = "\n".join(f"#*# Week {n}\nThis week: {keywords}." for n in range(1, 5))
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"contains": "Write a personal diary", "reply": reply}]))
    lc_bench("run", "--tasks", "longgen", "--task-opt", "longgen.units=[4]", "--task-opt",
             'longgen.scenarios=["diary"]', "--runner", "constant", "--runner-opt", f"script={script}",
             "--model", str(tiny_model_dir), "--lengths", "2k", "--out", str(tmp_path), "--name", "g")
    assert records(tmp_path / "g")[0]["scores"]["average"] == 100.0
    range_event = next(c["event"] for c in checks if c["kind"] == "range")
    verdicts = tmp_path / "verdicts.json"
    verdicts.write_text(json.dumps([{"contains": f"include {range_event}?", "reply": "No."},
                                    {"contains": "Does this context include", "reply": "Yes, it does."}]))
    result = lc_bench("judge", str(tmp_path / "g"), "--runner", "constant", "--runner-opt", f"script={verdicts}",
                      "--model", str(tiny_model_dir), "--tasks", "longgen")
    assert "judged 1 samples, 0 verdicts did not parse" in result.stdout
    judged = records(tmp_path / "g")[-1]
    assert judged["scores"]["range"] == 0.0 and judged["scores"]["once"] == 100.0
    assert judged["scores"]["periodic"] == 100.0 and judged["score"] == pytest.approx(200 / 3)
    pairs = sum(len(c["units"]) for c in checks)
    assert len(judged["judge"]["prompts"]) == pairs and set(judged["judge"]["parsed"].values()) == {True, False}
    unknown = lc_bench("judge", str(tmp_path / "g"), "--runner", "constant", "--model", str(tiny_model_dir),
                       "--tasks", "niah", check_rc=2)
    assert "task 'niah' declares no judge (judged tasks: " in unknown.stderr
    assert all(name in unknown.stderr for name in ("longgen,", "longgenbench", "longwrite"))


def test_the_default_judged_tasks_skip_tasks_that_are_not_installed(tmp_path, monkeypatch):
    """Neither a task that is gone nor an unrelated broken plugin (listing every name fails then)
    stops the judging of the run's installed tasks."""
    from lc_bench.errors import UsageError
    from lc_bench.judge import judged_tasks_of
    from lc_bench.registry import TASKS

    def broken_plugin() -> list[str]:
        raise UsageError("task plugin 'x' (mod) failed to load: ImportError")

    monkeypatch.setattr(TASKS, "names", broken_plugin)
    from lc_bench.schema import RunManifest
    from tests.metrics.helpers import MANIFEST

    manifest = RunManifest(**{**MANIFEST, "config": {"tasks": ["longwrite", "gone_plugin_task"]}},
                           invocations=[{"config": {"tasks": ["niah_single_1", "longgen"]}}])
    (tmp_path / "manifest.json").write_text(manifest.model_dump_json())
    assert judged_tasks_of(tmp_path) == ("longgen", "longwrite")
