import re

import pytest

from lc_bench.errors import UsageError
from lc_bench.lengths import input_budget
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.haystack import NOISE_SENTENCES
from lc_bench.tasks.niah import Niah


def build(tokenizer, lengths=(1024, 4096), depths=(0.0, 50.0, 100.0), n=1, seed=0, **params):
    task = make_task(Niah, params)
    return task, task.build(BuildContext(tokenizer, tuple(lengths), tuple(depths), n, seed))


def test_prompts_hit_the_budget_exactly(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, lengths=(1024, 3000, 8192, 16384), depths=(0, 37.5, 100), n=2)
    assert len(samples) == 4 * 3 * 2
    for sample in samples:
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        measured = tiny_tokenizer.count(sample.messages, sample.use_chat_template, sample.answer_prefix)
        assert measured == sample.input_tokens
        assert budget - 2 <= measured <= budget


def test_needle_sits_between_sentences_at_the_requested_depth(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, lengths=(8192,), depths=(0, 25, 50, 75, 100))
    positions = []
    for sample in samples:
        content = sample.messages[0].content
        value = sample.references[0]
        needle = f"One of the special magic numbers for {sample.metadata['query']} is: {value}."
        assert content.count(needle) == 1
        before = content[: content.index(needle)].rstrip()
        assert re.search(r"[.!?][\"'’”)\]]*$", before) or sample.depth in (0, 100)
        assert abs(sample.metadata["actual_depth"] - sample.depth) < 3
        positions.append(sample.needle_token_position)
    assert positions == sorted(positions)
    rendered = tiny_tokenizer.render(samples[2].messages, answer_prefix=samples[2].answer_prefix)
    ids, offsets = tiny_tokenizer.encode_rendered(rendered)
    needle_at = offsets[samples[2].needle_token_position]
    assert "One of the special magic" in rendered[needle_at - 2 : needle_at + 30]


def test_same_seed_same_bytes_other_seed_other_needles(tiny_tokenizer):
    _, first = build(tiny_tokenizer, seed=7)
    _, second = build(tiny_tokenizer, seed=7)
    _, third = build(tiny_tokenizer, seed=8)
    as_bytes = [s.model_dump_json().encode() for s in first]
    assert as_bytes == [s.model_dump_json().encode() for s in second]
    assert [s.references for s in first] != [s.references for s in third]


def test_answer_prefix_can_be_turned_off(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, lengths=(1024,), depths=(50,), answer_prefix=False)
    assert samples[0].answer_prefix == ""
    _, with_prefix = build(tiny_tokenizer, lengths=(1024,), depths=(50,))
    assert with_prefix[0].answer_prefix.startswith(" The special magic number for")  # RULER's leading space


def test_value_types_and_noise_haystack(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, lengths=(2048,), depths=(50,), value_type="uuids", haystack="noise")
    assert len(samples[0].references[0]) == 36
    assert "The grass is green." in samples[0].messages[0].content


def test_scoring_uses_ruler_semantics(tiny_tokenizer):
    task, samples = build(tiny_tokenizer, lengths=(1024,), depths=(50,))
    value = samples[0].references[0]
    assert task.score(f" {value}.", samples[0].references, {}) == {
        "string_match_all": 100.0,
        "string_match_part": 100.0,
    }
    assert task.score("no idea", samples[0].references, {})["string_match_all"] == 0.0


def test_short_corpus_without_repetition_is_refused(tiny_tokenizer, tmp_path):
    (tmp_path / "a.txt").write_text("Only a few words here. Not enough for a long prompt.")
    with pytest.raises(UsageError, match="repetition is disabled"):
        build(tiny_tokenizer, lengths=(4096,), haystack=str(tmp_path), repeat_haystack=False)
    _, samples = build(tiny_tokenizer, lengths=(4096,), depths=(50,), haystack=str(tmp_path))
    assert samples[0].metadata["haystack_repeats"] > 1


def test_unknown_parameter_is_refused():
    with pytest.raises(UsageError, match="niah: colour"):
        make_task(Niah, {"colour": "red"})


def test_jsonl_haystack(tiny_tokenizer, tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"body": "Alpha beta gamma. Delta epsilon."}\n{"body": "Zeta eta theta."}\n')
    _, samples = build(tiny_tokenizer, lengths=(1024,), depths=(50,), haystack=f"{path}:body")
    assert "Delta epsilon." in samples[0].messages[0].content
    with pytest.raises(UsageError, match="no field 'text'"):
        build(tiny_tokenizer, lengths=(1024,), depths=(50,), haystack=f"{path}:text")


PRESETS = [
    "niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1",
    "niah_multikey_2", "niah_multikey_3", "niah_multivalue", "niah_multiquery",
]


@pytest.mark.parametrize("name", PRESETS)
def test_every_ruler_preset_fits_its_budget_and_hides_its_answers(tiny_tokenizer, name):
    from lc_bench.registry import TASKS

    task = make_task(TASKS.get(name), {})
    samples = task.build(BuildContext(tiny_tokenizer, (2048, 6000), (0.0, 60.0), 1, 3))
    for sample in samples:
        budget = input_budget(sample.target_length, sample.max_new_tokens)
        assert tiny_tokenizer.count(sample.messages, answer_prefix=sample.answer_prefix) == sample.input_tokens
        # distractor and noise lines are whole units (RULER fits by whole lines too)
        line = len(tiny_tokenizer.encode("\n" + NOISE_SENTENCES))
        slack = {"needles": 120, "noise": line}.get(task.params.haystack, 2)
        assert budget - slack <= sample.input_tokens <= budget
        content = sample.messages[0].content
        for answer in sample.references:
            assert answer in content
        expected = 4 if name in ("niah_multivalue", "niah_multiquery") else 1
        assert len(sample.references) == expected


def test_ruler_wording_singular_and_plural(tiny_tokenizer):
    from lc_bench.registry import TASKS

    single = make_task(TASKS.get("niah_single_3"), {}).build(BuildContext(tiny_tokenizer, (1024,), (50.0,), 1, 0))[0]
    assert single.messages[0].content.startswith("A special magic uuid is hidden within the following text.")
    assert "What is the special magic uuid for" in single.messages[0].content
    assert single.answer_prefix.endswith("mentioned in the provided text is")
    multi = make_task(TASKS.get("niah_multiquery"), {}).build(BuildContext(tiny_tokenizer, (2048,), (50.0,), 1, 0))[0]
    assert multi.messages[0].content.startswith("Some special magic numbers are hidden")
    query = multi.metadata["query"]
    assert query.count(", ") == 3 and ", and " in query
    assert multi.answer_prefix == f" The special magic numbers for {query} mentioned in the provided text are"


def test_distractor_haystack_never_reuses_the_queried_key(tiny_tokenizer):
    from lc_bench.registry import TASKS

    task = make_task(TASKS.get("niah_multikey_2"), {})
    for sample in task.build(BuildContext(tiny_tokenizer, (4096,), (30.0,), 3, 0)):
        content = sample.messages[0].content
        key = sample.metadata["query"]
        assert content.count(f"numbers for {key} is:") == 1
        assert content.count("One of the special magic numbers for") > 50


def test_random_depths_mode_uses_rulers_grid(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, lengths=(2048,), depths=(), n=4)
    from lc_bench.tasks.niah import RULER_DEPTHS

    assert all(s.depth in RULER_DEPTHS for s in samples)
    assert all("/drand/" in s.sample_id for s in samples)
    assert len({s.depth for s in samples}) > 1


def test_more_queries_than_keys_raise_the_key_count(tiny_tokenizer):
    _, samples = build(tiny_tokenizer, lengths=(2048,), depths=(50.0,), num_keys=1, num_queries=3)
    assert len(samples[0].references) == 3


def test_distractor_lines_drawn_as_read_are_the_lines_drawn_all_at_once():
    import random

    from lc_bench.tasks.niah import NEEDLE, DistractorLines, NiahParams
    from lc_bench.tasks.words import GENERATORS

    params = NiahParams(key_type="uuids", value_type="uuids")
    eager_rng, lazy_rng = random.Random(7), random.Random(7)
    eager = []
    for _ in range(4000 // 12 + 16):  # RULER's rule: draw a key (again while taken), then a value
        key = GENERATORS["uuids"](eager_rng)
        while key in {"k1"}:
            key = GENERATORS["uuids"](eager_rng)
        eager.append(NEEDLE.format(kind="uuids", key=key, value=GENERATORS["uuids"](eager_rng)))
    lazy = DistractorLines(lazy_rng, params, ["k1"], 4000)
    assert len(lazy) == len(eager)
    assert lazy[5] == eager[5] and len(lazy.drawn) == 6  # only as far as read
    assert lazy[:40] == eager[:40] and lazy[-1] == eager[-1] and list(lazy) == eager
