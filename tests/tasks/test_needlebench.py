"""NeedleBench V2 (OpenCompass): scoring as the original evaluators score (expected values from
running opencompass' own NeedleBenchOriginEvaluator / ParallelEvaluator / ATC post-processing and
evaluator on these inputs), the published prompts and question format, needle placement at token
int(n * depth / 100), exact lengths, determinism, a solver that recovers every kinship answer, and the
suite end to end."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.needlebench import (
    boxed_answer,
    keyword_score,
    overall,
    parallel_score,
    reasoning_answer,
    reasoning_score,
    reasoning_score_v1,
    single_score_v1,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.corpus import natural_corpus
from lc_bench.tasks.haystack import tokenize_haystack
from lc_bench.tasks.needlebench import PUBLISHED_DEPTHS, depth_zone
from lc_bench.tasks.needlebench_data import (
    RELATION_TEMPLATES,
    RELATION_TERMS,
    Needle,
    load_names,
    load_needles,
    parallel_question,
)

SINGLE, RETRIEVAL, REASONING = "needlebench_single", "needlebench_multi_retrieval", "needlebench_multi_reasoning"


def task(name: str, **params):
    return make_task(TASKS.get(name), params)


def context(tokenizer, length=4096, depths=(50.0,), samples=2, seed=0, **extra) -> BuildContext:
    return BuildContext(
        tokenizer=tokenizer, lengths=(length,), depths=depths, samples_per_cell=samples, seed=seed, **extra
    )


def document(sample) -> str:
    text = sample.messages[0].content
    if "<Document>\n" in text:
        return text.split("<Document>\n", 1)[1].split("\n</Document>", 1)[0]
    return text.split("<文档>\n", 1)[1].split("\n</文档>", 1)[0]


# -- scoring: each expected value is what opencompass' own code returns for the input --------------


@pytest.mark.parametrize(
    ("prediction", "keyword", "expected"),
    [
        ("The legendary item hidden on Emerald Island is Stardust Shard.", "Stardust Shard", 100.0),
        ("stardust shard", "Stardust Shard", 0.0),  # case-sensitive
        ("Stardust  Shard", "Stardust Shard", 0.0),  # no whitespace normalisation of the prediction
        ("StardustShard", "Stardust Shard", 0.0),
        ("是星尘碎片。", "星尘碎片", 100.0),
        ("星尘 碎片", "星尘碎片", 0.0),
    ],
)
def test_single_retrieval_is_a_raw_substring_match(prediction, keyword, expected):
    assert keyword_score(prediction, keyword) == expected


def test_multi_retrieval_scores_the_share_of_keywords_found():
    keywords = ["Stardust Shard", "Cobalt Heron", "Whistling Arch"]
    assert parallel_score("Stardust Shard and Whistling Arch", keywords) == pytest.approx(200 / 3)
    assert parallel_score("nothing", keywords) == 0.0
    assert parallel_score("Stardust Shard, Cobalt Heron, Whistling Arch", keywords) == 100.0


@pytest.mark.parametrize(
    ("prediction", "answer", "cleaned", "expected"),
    [
        ("So the answer is \\boxed{Orla Fenwick}.", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{\\text{Orla Fenwick}}", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{{Orla Fenwick}}", "Orla Fenwick", "Orla Fenwick", 100.0),  # double braces stripped
        ("\\boxed{ 'Orla   Fenwick' }", "Orla Fenwick", "Orla Fenwick", 100.0),  # quotes, spaces
        ("\\boxed{Ines Vale} no wait \\boxed{Orla Fenwick}", "Orla Fenwick", "Orla Fenwick", 100.0),  # last box
        ("Orla Fenwick", "Orla Fenwick", "None", 0.0),  # no box: no answer
        ("\\fbox{Orla Fenwick}", "Orla Fenwick", "None", 0.0),  # found, but only \boxed{ is unwrapped
        ("\\boxed{}", "Orla Fenwick", "None", 0.0),
        ("\\boxed{Orla", "Orla Fenwick", "None", 0.0),  # unbalanced
        ("\\boxed{Orla~Fenwick}", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{\\text{Orla} Fenwick}", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{orla fenwick}", "Orla Fenwick", "orla fenwick", 0.0),  # exact match
        ('\\boxed{"Orla Fenwick"}', "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{Orla\nFenwick}", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{{Orla\nFenwick}}", "Orla Fenwick", "{Orla Fenwick}", 0.0),  # the regex's `.` stops at \n
        ("\\boxed{Orla \\\\ Fenwick}", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{\\[Orla Fenwick\\]}", "Orla Fenwick", "Orla Fenwick", 100.0),
        ("\\boxed{柏念安}", "柏念安", "柏念安", 100.0),
        ("所以答案是\\boxed{（柏念安）}", "柏念安", "（柏念安）", 0.0),  # the zh example's brackets count
    ],
)
def test_multi_reasoning_takes_the_last_box_cleaned_and_matches_exactly(prediction, answer, cleaned, expected):
    assert reasoning_answer(prediction) == cleaned
    assert reasoning_score(prediction, answer) == expected


def test_boxed_answer_and_overall_by_hand():
    assert boxed_answer("a \\boxed{x{y}z} b") == "x{y}z"
    assert boxed_answer("none here") is None
    assert overall(90.0, 60.0, 30.0) == 60.0  # v2: plain mean
    assert overall(90.0, 60.0, 30.0, version="v1") == pytest.approx(0.4 * 90 + 0.3 * 60 + 0.3 * 30)


NEEDLE = "\nHidden on Emerald Island is the legendary Stardust Shard.\n"


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("Stardust Shard", 100.0),
        ("Hidden on Emerald Island is the legendary Stardust shard.", 0.2 * 100 * (1 - 1 / 49)),  # one edit
        ("", 0.0),
        ("no idea", 0.2 * 100 * (1 - 44 / 49)),  # "noidea" vs the 49 characters of the needle: 44 edits
        ("Stardust  Shard", 5.3061224489795915),
    ],
)
def test_v1_single_retrieval_gives_a_miss_a_fifth_of_its_edit_similarity(prediction, expected):
    assert single_score_v1(prediction, NEEDLE, "Stardust Shard") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("prediction", "answer", "expected"),
    [
        ("The eldest is ORLA fenwick", "Orla Fenwick", 100.0),
        ("Orla", "Orla Fenwick", 50.0),
        ("nobody", "Orla Fenwick", 0.0),
        ("柏念安", "柏念安", 100.0),
        ("Fenwick, Orla Ann", "Orla Ann Fenwick", 100.0),
    ],
)
def test_v1_reasoning_credits_each_answer_word(prediction, answer, expected):
    assert reasoning_score_v1(prediction, answer) == pytest.approx(expected)


def test_scoring_v1_changes_the_score_not_the_samples(tiny_tokenizer):
    v2, v1 = task(SINGLE), task(SINGLE, scoring="v1")
    built = v2.build(context(tiny_tokenizer, samples=1))[0]
    assert v1.build(context(tiny_tokenizer, samples=1))[0].messages == built.messages
    scores = v1.score("no idea", built.references, built.metadata)
    assert scores["score"] == scores["score_v1"] > 0.0 == scores["score_v2"]
    assert task(REASONING, scoring="v1").score("Orla", ("Orla Fenwick",), {})["score"] == 50.0


def test_task_scores_and_zones():
    retrieval = task(RETRIEVAL)
    zones = ["early", "early", "middle", "late"]
    scores = retrieval.score("A B", ("A", "B", "C", "D"), {"keyword_zones": zones})
    assert scores == {"score": 50.0, "zone_early": 100.0, "zone_middle": 0.0, "zone_late": 0.0}
    reasoning = task(REASONING)
    boxed = reasoning.score("\\boxed{Orla Fenwick}", ("Orla Fenwick",), {})
    assert (boxed["score"], boxed["boxed"]) == (100.0, 100.0)
    plain = reasoning.score("Orla Fenwick", ("Orla Fenwick",), {})
    assert (plain["score"], plain["boxed"], plain["score_v1"]) == (0.0, 0.0, 100.0)
    assert task(SINGLE).score("x Stardust Shard", ("Stardust Shard",), {})["score"] == 100.0
    assert [depth_zone(d) for d in PUBLISHED_DEPTHS] == ["early"] * 4 + ["middle"] * 3 + ["late"] * 4


# -- needles and questions -------------------------------------------------------------------------


def test_shipped_files_have_the_published_format():
    for language in ("en", "zh"):
        needles = load_needles("shipped", language)
        assert len(needles) >= 11 and len({n.keyword for n in needles}) == len(needles)
        assert all(n.keyword in n.needle for n in needles)
        assert len(load_names("shipped", language)) >= 6
    for language in ("en", "zh"):  # nothing to retrieve occurs in the haystack itself
        corpus = natural_corpus(language)
        assert not [n.keyword for n in load_needles("shipped", language) if n.keyword in corpus]
        assert not [name for name in load_names("shipped", language) if name in corpus]


def test_the_multi_retrieval_question_is_built_as_the_original_builds_it():
    en = [
        Needle("n1", "What is A? Please answer in the format of 'A is ______.'", "a", "t1"),
        Needle("n2", "Where is B? Please answer in the format of 'B is in ______.'", "b", "t2"),
    ]
    assert parallel_question(en, "en") == (
        "What is A?、Where is B?Please answer in the format of 'A is ______、B is in ______'"
    )
    zh = [Needle("n", "甲是什么？请按照'甲是______。'的格式回答。", "k", "t")]
    assert parallel_question(zh, "zh") == "甲是什么？请按照'甲是______'的格式回答。"


def test_user_needle_files_load_and_bad_ones_are_one_line(tmp_path):
    row = {
        "needle": "X hides Y.",
        "retrieval_question": "What? 'Y is ___.'",
        "arg1": "X",
        "arg2": "Y",
        "language": "English",
    }
    (tmp_path / "needles.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert load_needles(str(tmp_path), "en") == (Needle("X hides Y.", "What? 'Y is ___.'", "Y", "X"),)
    with pytest.raises(UsageError, match="no Chinese needles"):
        load_needles(str(tmp_path), "zh")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"needle": "x", "language": "English"}) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="needs text fields retrieval_question, arg2") as error:
        load_needles(str(bad), "en")
    assert "\n" not in str(error.value)
    with pytest.raises(UsageError, match="not found"):
        load_names(str(tmp_path / "missing.json"), "en")
    with pytest.raises(UsageError, match="hops"):
        task(REASONING, hops=[0])


# -- building ----------------------------------------------------------------------------------------


def test_indices_take_languages_and_hops_in_turn(tiny_tokenizer):
    single = task(SINGLE).build(context(tiny_tokenizer, samples=3))
    assert [s.metadata["language"] for s in single] == ["en", "zh", "en"]
    assert [s.sample_id for s in single] == [f"{SINGLE}/4k/d50/{i}" for i in range(3)]
    reasoning = task(REASONING)
    variants = [reasoning.variant(i) for i in range(9)]  # type: ignore[attr-defined]
    assert [(v["hops"], v["language"]) for v in variants] == [
        (2, "en"),
        (2, "zh"),
        (3, "en"),
        (3, "zh"),
        (4, "en"),
        (4, "zh"),
        (5, "en"),
        (5, "zh"),
        (2, "en"),
    ]
    assert [s.metadata["language"] for s in task(SINGLE, language="zh").build(context(tiny_tokenizer))] == ["zh"] * 2


def test_samples_are_deterministic_per_seed_and_per_cell(tiny_tokenizer):
    for name in (SINGLE, RETRIEVAL, REASONING):
        built = task(name).build(context(tiny_tokenizer, samples=3))
        again = task(name).build(context(tiny_tokenizer, samples=3))
        assert [s.model_dump() for s in built] == [s.model_dump() for s in again]
        other = task(name).build(context(tiny_tokenizer, samples=3, seed=1))
        assert [s.references for s in other] != [s.references for s in built]
        depth = 50.0 if TASKS.get(name).grid_depths else None
        alone = task(name).build_cell(context(tiny_tokenizer, samples=3), 4096, depth, [2])[0]
        assert alone is not None and alone.model_dump() == built[2].model_dump()


def test_the_needle_sits_at_token_int_n_depth_over_100_wrapped_in_newlines(tiny_tokenizer):
    for depth in (0.0, 30.0, 100.0):
        sample = task(SINGLE, language="en").build(context(tiny_tokenizer, depths=(depth,), samples=1))[0]
        n = sample.metadata["haystack_units"]
        ids = tokenize_haystack(tiny_tokenizer, natural_corpus("en"), 4096, True).ids
        needle = next(n_.needle for n_ in load_needles("shipped", "en") if n_.keyword == sample.references[0])
        point = int(n * depth / 100)
        expected = [
            tiny_tokenizer.decode(ids[:p]) + "\n" + needle + "\n" + tiny_tokenizer.decode(ids[p:n])
            for p in range(point, max(-1, point - 4), -1)  # a cut inside a character moves back
        ]
        assert document(sample) in expected
        assert sample.depth == depth and sample.metadata["depth_zone"] == depth_zone(depth)
        assert sample.metadata["haystack_repeats"] == 0


def test_the_prompt_is_the_published_one_with_the_question_last(tiny_tokenizer):
    en, zh = task(SINGLE).build(context(tiny_tokenizer))
    assert en.messages[0].content.startswith(
        "This is a test of long-text capability. You need to first read the long document below, and then answer "
        "the final question based on the information in the document.\nThe content of the long document is as "
        "follows\n\n<Document>\n"
    )
    assert en.messages[0].content.endswith(
        f"</Document>\n\nBased on the information in the document, now please answer: {en.metadata['question']}\n"
    )
    assert zh.messages[0].content.endswith(f"</文档>\n\n根据文档中的信息，现在请问：{zh.metadata['question']}\n")
    assert en.max_new_tokens == 128 and en.answer_prefix == ""


def test_multi_retrieval_puts_one_needle_at_every_depth_and_asks_them_in_order(tiny_tokenizer):
    depths = (0.0, 25.0, 50.0, 75.0, 100.0)
    for sample in task(RETRIEVAL).build(context(tiny_tokenizer, length=8192, depths=depths)):
        text = document(sample)
        keywords = sample.references
        assert len(keywords) == 5 and all(text.count(k) == 1 for k in keywords)
        found = [text.index(k) for k in keywords]
        assert found == sorted(found)  # the needle of question i sits at depth i
        assert sample.metadata["needle_depths"] == list(depths) and sample.depth is None
        assert sample.metadata["keyword_zones"] == ["early", "early", "middle", "late", "late"]
        assert sample.sample_id.startswith(f"{RETRIEVAL}/8k/") and sample.metadata["needles"] == "5"
        assert task(RETRIEVAL).score(" ".join(keywords), keywords, sample.metadata)["score"] == 100.0
    published = task(RETRIEVAL).build(context(tiny_tokenizer, length=8192, depths=(), samples=1))[0]
    assert published.metadata["needle_depths"] == list(PUBLISHED_DEPTHS)


def solve(sample) -> str:
    """The eldest relative of the person asked about, from the prompt alone."""
    language = sample.metadata["language"]
    names = load_names("shipped", language)
    name = "(?:" + "|".join(map(re.escape, names)) + ")"
    term = "(?:" + "|".join(map(re.escape, sorted(RELATION_TERMS[language], key=len, reverse=True))) + ")"
    patterns = []
    for template in RELATION_TEMPLATES[language]:
        pattern = re.escape(template)
        for field, group in (("A", "a"), ("B", "b")):
            escaped = re.escape("{" + field + "}")
            pattern = pattern.replace(escaped, f"(?P<{group}>{name})", 1).replace(escaped, f"(?P={group})")
        patterns.append(re.compile(pattern.replace(re.escape("{relationship}"), term)))
    elder: dict[str, str] = {}
    for line in document(sample).split("\n"):
        for pattern in patterns:
            match = pattern.fullmatch(line)
            if match:
                assert match["b"] not in elder  # one elder per person: the answer is unambiguous
                elder[match["b"]] = match["a"]
                break
    person = re.search(r"'([^']+)'", sample.metadata["question"]).group(1)
    hops = 0
    while person in elder:
        person, hops = elder[person], hops + 1
    assert hops == int(sample.metadata["hops"]) == len(elder)
    return person


def test_a_solver_recovers_every_kinship_answer_from_the_prompt(tiny_tokenizer):
    reasoning = task(REASONING)
    for depth in (0.0, 50.0, 95.0):
        samples = reasoning.build(context(tiny_tokenizer, length=4096, depths=(depth,), samples=8))
        assert sorted({(s.metadata["hops"], s.metadata["language"]) for s in samples}) == [
            (str(h), lang) for h in (2, 3, 4, 5) for lang in ("en", "zh")
        ]
        for sample in samples:
            assert solve(sample) == sample.references[0] == sample.metadata["chain"][0]
            assert sample.metadata["needle_depths"][0] == depth
            assert sample.metadata["needle_depths"][1:] == [
                min(100.0, depth + 10 * i) for i in range(1, len(sample.metadata["needle_depths"]))
            ]
            assert reasoning.score(f"\\boxed{{{sample.references[0]}}}", sample.references, {})["score"] == 100.0


def test_random_depths_take_published_depths(tiny_tokenizer):
    for name in (SINGLE, REASONING):
        samples = task(name).build(context(tiny_tokenizer, depths=(), samples=2))
        assert all(s.depth in PUBLISHED_DEPTHS for s in samples)
        assert [s.sample_id for s in samples] == [f"{name}/4k/0", f"{name}/4k/1"]


def test_a_prompt_longer_than_its_length_is_left_out_and_counted(tiny_tokenizer):
    narrowed = context(tiny_tokenizer, length=1024, depths=(), samples=1)
    assert task(RETRIEVAL).build(narrowed) == []  # eleven needles and questions overflow 1k
    assert narrowed.skipped == {(RETRIEVAL, 1024): 1}


def _check_exact(samples, length):
    """Within a unit of the length: a token (a seam between the haystack and a needle may merge two),
    for Chinese a character (a cut never splits one; byte-level BPE spends up to 3 tokens on it)."""
    for sample in samples:
        slack = 2 if sample.metadata["language"] == "en" else 3
        assert length - slack <= sample.input_tokens + sample.max_new_tokens <= length, sample.sample_id


def test_lengths_are_exact_with_the_tiny_tokenizer(tiny_tokenizer):
    for name in (SINGLE, RETRIEVAL, REASONING):
        _check_exact(task(name).build(context(tiny_tokenizer, length=4096, depths=(0.0, 100.0))), 4096)


@pytest.mark.integration
@pytest.mark.parametrize("length", [4096, 32768])
def test_lengths_are_exact_with_smollm2(smollm2_tokenizer, length):
    for name in (SINGLE, RETRIEVAL, REASONING):
        samples = task(name).build(context(smollm2_tokenizer, length=length, depths=(10.0, 90.0)))
        assert len(samples) == (4 if TASKS.get(name).grid_depths else 2)
        _check_exact(samples, length)
        counted = [smollm2_tokenizer.count(s.messages) for s in samples]
        assert counted == [s.input_tokens for s in samples]


@pytest.mark.integration
def test_one_128k_sample_is_exact_with_smollm2(smollm2_tokenizer):
    sample = task(REASONING, language="en").build(context(smollm2_tokenizer, length=131072, samples=1))[0]
    assert 131070 <= sample.input_tokens + sample.max_new_tokens <= 131072 and solve(sample) == sample.references[0]


@pytest.mark.integration  # about 35-45 s: most of it tokenizing a 5M-character corpus prefix
def test_one_1000k_sample_with_the_tiny_tokenizer(tiny_tokenizer):
    narrowed = context(tiny_tokenizer, length=1024000, samples=1)
    sample = task(SINGLE, language="en").build(narrowed)[0]
    assert 1023998 <= sample.input_tokens + sample.max_new_tokens <= 1024000
    assert sample.metadata["haystack_repeats"] == 0 and sample.sample_id == f"{SINGLE}/1000k/d50/0"


# -- the suite ---------------------------------------------------------------------------------------


def test_the_suite_declares_the_published_grid():
    from lc_bench.suites.loader import load_suite

    suite = load_suite("needlebench")
    assert suite.tasks == [SINGLE, RETRIEVAL, REASONING] and suite.samples % 8 == 0
    assert suite.depths == ",".join(str(int(d)) for d in PUBLISHED_DEPTHS)
    assert {TASKS.get(name).family for name in suite.tasks} == {"needlebench"}


def test_the_suite_runs_end_to_end_with_the_echo_runner(tiny_model_dir, tmp_path):
    from typer.testing import CliRunner

    from lc_bench.cli import app

    result = CliRunner().invoke(
        app,
        [
            "run",
            "--suite",
            "needlebench",
            "--lengths",
            "1k,2k",
            "--samples",
            "1",
            "--runner",
            "echo",
            "--model",
            str(tiny_model_dir),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in next(tmp_path.glob("*/records.jsonl")).open()]
    by_task: dict[str, list[dict]] = {}
    for record in records:
        by_task.setdefault(record["task"], []).append(record)
    assert len(by_task[SINGLE]) == 22 and all(r["score"] == 100.0 for r in by_task[SINGLE])  # echo: found
    assert [r["score"] for r in by_task[RETRIEVAL]] == [100.0]  # 1k is too short for eleven needles
    assert len(by_task[REASONING]) == 11 and all(r["score"] == 0.0 for r in by_task[REASONING])  # last box
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text())
    assert "needlebench" in json.dumps(manifest)


def test_build_context_replace_keeps_the_cache_per_build(tiny_tokenizer):
    # a narrowed cell context (as build_cell makes) builds the same sample as the whole grid
    whole = context(tiny_tokenizer, samples=2)
    cell = replace(whole, indices=(1,))
    assert task(SINGLE).build(cell)[0].model_dump() == task(SINGLE).build(whole)[1].model_dump()
