"""NeedleBench's Ancestral Trace Challenge: the original's prompts, answers recovered by an
independent solver, the original's scoring, determinism, the length ceiling and a run end to end."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.tasks.atc import QuestionType, atc_postprocess, atc_scores, load_names, make_puzzle, sample_seed
from lc_bench.tasks.base import BuildContext, make_task
from tests.e2e.test_cli import lc_bench_in_process, one_line, records

LANGS = ("English", "Chinese")

# sha256 of "\0".join(prompts + answers) that OpenCompass' own loader
# (opencompass/datasets/needlebench_v2/atc.py NeedleBenchATCDataset.load, commit a5acc4bb, run with stubbed
# imports) returns for lc_bench's names.json, repeats=3, every question type
ORIGINAL_DIGESTS = {
    ("English", 2): "e064b556adb0b5e5f9b69c66981f977019e923c38522fe0aa2f98b9c5d9a1ba5",
    ("English", 4): "ac5a7e6161e69aae54db0b320f824d47dd667bcc5faf375cdd2687228c37a07b",
    ("English", 8): "86df0205fb7ba9fa86f97dc5cb6f087edc189c8eda301c22d42ba4f5e1896dd4",
    ("English", 64): "f01b865d0202a19355c1cf4fa99bf1967d44c5efae0cb2bc36a35a34e6961621",
    ("Chinese", 2): "656db7f55491628927c2793dd535c47f4fe4db18c47ec538211cf2656f8f4eb2",
    ("Chinese", 4): "c1ad0c686257cdadbfe5886688a797742d9da559eeed633bc23c5be74f36d7c2",
    ("Chinese", 8): "20413821c411801fe3a5f75a7fa69612914829f7343c38b243f4d350d4da0ae8",
    ("Chinese", 64): "39253f126d511668c3cee89c2995579172aca29f699da8442c37ecc14c962a5f",
}


@pytest.mark.parametrize(("language", "needles"), sorted(ORIGINAL_DIGESTS))
def test_prompts_and_answers_are_the_original_loaders(language, needles):
    pool, _ = load_names(None, language)
    prompts, answers = [], []
    for question in QuestionType:  # the loader's order: question type, then repeat
        for index in range(3):
            puzzle = make_puzzle(pool, language, needles, question, sample_seed(0, question, index))
            prompts.append(puzzle.prompt)
            answers.append(puzzle.answer)
    digest = hashlib.sha256("\x00".join(prompts + answers).encode()).hexdigest()
    assert digest == ORIGINAL_DIGESTS[(language, needles)]


# ---------------------------------------------------------------------------------------------
# an independent solver: parses the prompt text alone (the relation sentences and the question)

EN_TERMS = (
    "maternal grandmother|maternal grandfather|paternal grandfather|paternal grandmother|"
    "grandfather|grandmother|father|mother|dad|mom"
)
ZH_TERMS = "父亲|母亲|爸爸|妈妈|爷爷|奶奶|姥姥|姥爷|外公|外婆"
EN_SENTENCES = [  # (elder, younger) named groups; the longer templates first
    rf"^For (?P<y>.+), (?P<e>.+) is more than just a (?P<r>{EN_TERMS}); (?P=e) is a lifelong mentor of (?P=y)\.$",
    rf"^For (?P<y>.+), (?P<e>.+) is not just a (?P<r>{EN_TERMS}), but also a friend\.$",
    rf"^During (?P<y>.+)'s upbringing, (?P<e>.+) was not only (?P=y)'s (?P<r>{EN_TERMS}), but also (?P=y)'s "
    r"guardian\.$",
    rf"^(?P<e>.+), as (?P<y>.+)'s (?P<r>{EN_TERMS}), has a significant impact on (?P=y)'s upbringing\.$",
    rf"^(?P<e>.+) is not only (?P<y>.+)'s (?P<r>{EN_TERMS}) but also (?P=y)'s role model\.$",
    rf"^(?P<y>.+)'s (?P<r>{EN_TERMS}) is (?P<e>.+)\.$",
    rf"^(?P<e>.+) is (?P<y>.+)'s (?P<r>{EN_TERMS})\.$",
]
ZH_SENTENCES = [
    rf"^(?P<e>.+?)在(?P<y>.+?)的成长过程中，不仅仅是(?P=y)的(?P<r>{ZH_TERMS})，还是(?P=y)的监护人。$",
    rf"^(?P<e>.+?)作为(?P<y>.+?)的(?P<r>{ZH_TERMS})，对(?P=y)的成长有重要影响。$",
    rf"^(?P<e>.+?)不仅是(?P<y>.+?)的(?P<r>{ZH_TERMS})，还是(?P=y)的榜样。$",
    rf"^(?P<e>.+?)对(?P<y>.+?)来说，不只是一个(?P<r>{ZH_TERMS})，还是一个朋友。$",
    rf"^(?P<y>.+?)的(?P<r>{ZH_TERMS})是(?P<e>.+?)。$",
    rf"^(?P<e>.+?)是(?P<y>.+?)的(?P<r>{ZH_TERMS})。$",
]
TWO_GENERATIONS = {"grandfather", "grandmother", "爷爷", "奶奶", "姥姥", "姥爷", "外公", "外婆"}


def solve(prompt: str, language: str) -> str:
    """The answer the prompt's facts and question determine (asserting they determine exactly one)."""
    if language == "English":
        story = prompt.split("Now, the scrambled family relationships are provided below:\n", 1)[1]
        story, question = story.split("\n\nGiven the scrambled family relationships described above, ", 1)
        sentences, patterns = re.findall(r"[^.]+\.", story), EN_SENTENCES
    else:
        story = prompt.split("现在，打乱的家族关系文本如下：\n", 1)[1]
        story, question = story.split("\n\n在上面提供的打乱的家族关系文本中，", 1)
        sentences, patterns = re.findall(r"[^。]+。", story), ZH_SENTENCES
    assert "".join(sentences) == story
    parent: dict[str, tuple[str, int]] = {}  # younger -> (elder, generations)
    for sentence in sentences:
        match = next(m for pattern in patterns if (m := re.match(pattern, sentence)))
        weight = 2 if any(match["r"].endswith(term) for term in TWO_GENERATIONS) else 1
        assert match["y"] not in parent  # a chain: one elder per person
        parent[match["y"]] = (match["e"], weight)
    children = {elder: (younger, weight) for younger, (elder, weight) in parent.items()}
    assert len(children) == len(parent) == len(sentences)  # a path, no branching
    roots = set(children) - set(parent)
    assert len(roots) == 1

    def up(person: str) -> tuple[str, int]:
        total = 0
        while person in parent:
            person, weight = parent[person]
            total += weight
        return person, total

    def down(person: str) -> tuple[str, int]:
        total = 0
        while person in children:
            person, weight = children[person]
            total += weight
        return person, total

    if language == "English":
        if question.startswith("who is the eldest relative"):
            return up(re.search(r"that '(.+)' can trace back", question)[1])[0]
        if match := re.match(r"who is the (\d+)th generation (ancestor|descendant) of '(.+)'\?", question):
            n, person = int(match[1]), match[3]
            found, total = up(person) if match[2] == "ancestor" else down(person)
        else:
            match = re.match(r"what is the relationship distance between '(.+)' and '(.+)'\?", question)
            elder, younger = match[1], match[2]
            top, total = up(younger)
            assert top == elder and total == sum(w for _, w in parent.values())
            return str(total)
    else:
        if question.endswith("的能够向上追溯到的最年长的亲人是谁？\n"):
            return up(re.match(r"'(.+)'的能够", question)[1])[0]
        if match := re.match(r"'(.+)'的(\d+)代(祖先|子孙)是谁？", question):
            n, person = int(match[2]), match[1]
            found, total = up(person) if match[3] == "祖先" else down(person)
        else:
            match = re.match(r"'(.+)'和'(.+)'之间的关系距离是多少？", question)
            top, total = up(match[2])
            assert top == match[1]
            return str(total)
    assert total == n  # the question's n is the whole chain's generations: its far end
    return found


@pytest.mark.parametrize("language", LANGS)
def test_an_independent_solver_recovers_every_gold_answer(language):
    pool, _ = load_names(None, language)
    checked = 0
    for needles in (1, 2, 5, 16, 40):
        for seed in range(12):
            for question in QuestionType:
                puzzle = make_puzzle(pool, language, needles, question, sample_seed(seed, question, seed % 5))
                assert solve(puzzle.prompt, language) == puzzle.answer
                assert len(set(puzzle.names)) == needles + 1
                checked += 1
    assert checked == 5 * 12 * 4


def test_the_solver_reads_each_template():
    """Every relation template of both languages occurs in the puzzles above (the solver parsed them all)."""
    from lc_bench.tasks.atc import published_text

    for language in LANGS:
        pool, _ = load_names(None, language)
        puzzle = make_puzzle(pool, language, 300, QuestionType.ELDEST_ANCESTOR, 1)
        for template in published_text()[language]["templates"]:
            fixed = re.split(r"\{A\}|\{B\}|\{relationship\}", template)
            assert all(part in puzzle.prompt for part in fixed if part)
        assert solve(puzzle.prompt, language) == puzzle.answer


# ---------------------------------------------------------------------------------------------
# scoring: each expected value is what OpenCompass' needlebench_atc_postprocess_v2 +
# NeedleBenchATCEvaluator give (run on these inputs from the fetched source)

SCORING = [
    ("So the answer is \\boxed{James Hill}.", "James Hill", "James Hill", 100.0),
    ("\\boxed{Jasmine Lane} ... finally \\boxed{James Hill}", "James Hill", "James Hill", 100.0),  # the last box
    ("\\boxed{\\text{James Hill}}", "James Hill", "James Hill", 100.0),
    ("\\boxed{{James Hill}}", "James Hill", "James Hill", 100.0),  # double braces stripped
    ("\\boxed{ 'James  Hill' }", "James Hill", "James Hill", 100.0),  # quotes, spaces
    ('\\boxed{"James~Hill"}', "James Hill", "James Hill", 100.0),  # a tilde is a space
    ("\\boxed{James\\ Hill}", "James Hill", "James Hill", 100.0),
    ("\\boxed{James Hill (his grandfather)}", "James Hill", "James Hill (his grandfather)", 0.0),
    ("James Hill", "James Hill", "None", 0.0),  # no box: no answer
    ("\\fbox{James Hill}", "James Hill", "None", 0.0),
    ("\\boxed{}", "James Hill", "None", 0.0),
    ("\\boxed{James Hill", "James Hill", "None", 0.0),  # unbalanced
    ("\\boxed {James Hill}", "James Hill", "None", 0.0),
    ("所以韦超能向上追溯到的最年长的亲人就是\\boxed{曹英俊}", "曹英俊", "曹英俊", 100.0),
    ("\\boxed{8}", "8", "8", 100.0),
    ("\\boxed{8 generations}", "8", "8 generations", 0.0),
    ("\\boxed{\\boxed{James Hill}}", "James Hill", "James Hill", 100.0),
    ("\\[\\boxed{James Hill}\\]", "James Hill", "James Hill", 100.0),
    ("\\boxed{~James Hill}", "James Hill", " James Hill", 100.0),  # the tilde turns into a space after strip
    ("\\boxed{{a}{b}}", "a}{b", "a}{b", 100.0),
]


@pytest.mark.parametrize(("output", "reference", "cleaned", "accuracy"), SCORING)
def test_scoring_is_the_originals(output, reference, cleaned, accuracy):
    assert atc_postprocess(output) == cleaned
    assert atc_scores(output, reference)["accuracy"] == accuracy


def test_boxed_secondary_score():
    assert atc_scores("\\boxed{x}", "y") == {"accuracy": 0.0, "boxed": 100.0}
    assert atc_scores("\\boxed{}", "y") == {"accuracy": 0.0, "boxed": 0.0}


# ---------------------------------------------------------------------------------------------
# the task


def context(tokenizer, lengths=(8192,), samples=2, seed=0, max_new_tokens=None) -> BuildContext:
    return BuildContext(
        tokenizer=tokenizer,
        lengths=lengths,
        depths=(),
        samples_per_cell=samples,
        seed=seed,
        max_new_tokens=max_new_tokens,
    )


def test_samples_carry_labels_answers_and_fit_their_length(tiny_tokenizer):
    task = make_task(TASKS.get("atc"), {"needle_counts": [2, 8]})
    samples = task.build(context(tiny_tokenizer))
    assert len(samples) == 2 * 4 * 2
    first = samples[0]
    assert first.sample_id == "atc/8k/n2/eldest_ancestor/0" and first.target_length == 8192
    assert first.metadata["needle_count"] == "2" and first.metadata["question_type"] == "ELDEST_ANCESTOR"
    assert first.max_new_tokens == 2048 and first.use_chat_template
    assert {s.metadata["needle_count"] for s in samples} == {"2", "8"}
    for sample in samples:
        assert sample.input_tokens + sample.max_new_tokens <= sample.target_length
        assert solve(sample.messages[0].content, "English") == sample.references[0]
        assert (
            task.score(f"So ... \\boxed{{{sample.references[0]}}}", sample.references, sample.metadata)["accuracy"]
            == 100.0
        )
    zh = make_task(TASKS.get("atc_zh"), {"needle_counts": [4], "question_types": ["relationship_distance"]})
    built = zh.build(context(tiny_tokenizer, samples=3))
    assert [s.sample_id for s in built] == [f"atc_zh/8k/n4/relationship_distance/{i}" for i in range(3)]
    assert all(solve(s.messages[0].content, "Chinese") == s.references[0] for s in built)


def test_samples_are_deterministic_per_seed(tiny_tokenizer):
    task = make_task(TASKS.get("atc"), {"needle_counts": [4, 16]})
    one = task.build(context(tiny_tokenizer, seed=0))
    assert [s.model_dump() for s in one] == [s.model_dump() for s in task.build(context(tiny_tokenizer, seed=0))]
    other = task.build(context(tiny_tokenizer, seed=1))
    assert [s.sample_id for s in other] == [s.sample_id for s in one]
    assert all(a.messages != b.messages for a, b in zip(one, other, strict=True))


def test_a_needle_count_that_does_not_fit_is_refused(tiny_tokenizer):
    task = make_task(TASKS.get("atc"), {"needle_counts": [2, 256]})
    with pytest.raises(
        UsageError,
        match=r"needle count 256 needs \d+ prompt tokens \+ 2048 new tokens, more than "
        r"length 4k \(4096 tokens\)",
    ):
        task.build(context(tiny_tokenizer, lengths=(4096,)))
    with pytest.raises(UsageError, match="needle count 2 needs"):  # a small output budget still needs the room
        task.build(context(tiny_tokenizer, lengths=(600,), max_new_tokens=500))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"needle_counts": []}, "must name at least one"),
        ({"needle_counts": [2, 2]}, "must not repeat"),
        ({"needle_counts": [0]}, "at least 1"),
        ({"question_types": ["eldest"]}, "question_types"),
    ],
)
def test_bad_params_are_one_line(params, message):
    with pytest.raises(UsageError, match=message):
        make_task(TASKS.get("atc"), params)


def test_a_names_file_in_the_published_layout(tmp_path, tiny_tokenizer):
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"English": "Ann Lee,Bob Day,Cy Fox,Di Moe", "Chinese": "张三,李四"}))
    task = make_task(TASKS.get("atc"), {"needle_counts": [3], "names": str(names)})
    samples = task.build(context(tiny_tokenizer, samples=1))
    assert {s.references[0] for s in samples} <= {"Ann Lee", "Bob Day", "Cy Fox", "Di Moe", "6", "5", "4", "3"}
    assert samples[0].metadata["names_source"] == str(names)
    with pytest.raises(UsageError, match="holds 2 Chinese names; needle count 3 needs 4"):
        make_task(TASKS.get("atc_zh"), {"needle_counts": [3], "names": str(names)}).build(context(tiny_tokenizer))
    names.write_text(json.dumps({"English": "Ann Lee,Bob Day,Ann Lee,Di Moe"}))
    with pytest.raises(UsageError, match=r"the English names repeat or leave empty \['Ann Lee'\]"):
        task.build(context(tiny_tokenizer))
    names.write_text(json.dumps({"english": "x"}))
    with pytest.raises(UsageError, match="has no 'English' string of comma-separated names"):
        task.build(context(tiny_tokenizer))


def test_run_then_leaderboard_shows_the_largest_needle_count_passed(tiny_model_dir, tiny_tokenizer, tmp_path):
    """Answers right up to 8 needles (and at 32, after a failure at 16: the original's rule gives 8)."""
    counts = [2, 4, 8, 16, 32]
    task = make_task(TASKS.get("atc"), {"needle_counts": counts})
    rules = []
    for sample in task.build(context(tiny_tokenizer, samples=2)):
        right = sample.metadata["needle_count"] != "16"
        answer = sample.references[0] if right else "nobody"
        rules.append({"contains": sample.messages[0].content, "reply": f"So it is \\boxed{{{answer}}}."})
    script = tmp_path / "script.json"
    script.write_text(json.dumps(rules))
    out = tmp_path / "results"
    lc_bench_in_process(
        "run",
        "--tasks",
        "atc",
        "--task-opt",
        f"atc.needle_counts={json.dumps(counts)}",
        "--runner",
        "constant",
        "--runner-opt",
        f"script={script}",
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "8k",
        "--samples",
        "2",
        "--out",
        str(out),
        "--name",
        "r",
    )
    run_dir = out / "r"
    rows = records(run_dir)
    assert len(rows) == len(counts) * 4 * 2
    assert {
        r["metadata"]["needle_count"]: r["score"] for r in rows if r["metadata"]["needle_count"] in ("8", "16")
    } == {"8": 100.0, "16": 0.0}
    lc_bench_in_process("leaderboard", str(run_dir))
    markdown = (run_dir / "leaderboard.md").read_text()
    assert "### ATC needle count" in markdown
    assert "| model | task | length | 2 | 4 | 8 | 16 | 32 | largest passing (>= 60) |" in markdown
    assert "| 100.0 (n=8) | 0.0 (n=8) | 100.0 (n=8) | 8 |" in markdown
    board = json.loads((run_dir / "leaderboard.json").read_text())
    [summary] = board["largest_passing"]
    assert summary["task"] == "atc" and summary["label"] == "8" and summary["largest_passing"] == 8.0
    assert summary["rule"] == "before_last_failure" and summary["threshold"] == 60.0
    assert "largest passing (&gt;= 60)" in (run_dir / "leaderboard.html").read_text()


def test_a_needle_count_over_the_window_exits_2_with_one_line(tiny_model_dir, tmp_path):
    result = lc_bench_in_process(
        "run",
        "--tasks",
        "atc",
        "--task-opt",
        "atc.needle_counts=[2,512]",
        "--runner",
        "echo",
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "4k",
        "--out",
        str(tmp_path / "o"),
        check_rc=2,
    )
    assert one_line(result.stderr) and "needle count 512 needs" in result.stderr
    assert not (tmp_path / "o").exists()
