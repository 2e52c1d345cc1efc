"""Token stops (LongBench's samsum: the newline token ends the reply, never as its first token),
as each kind of runner applies them."""

import pytest

from lc_bench.models import resolve_model
from lc_bench.runners.base import RunnerContext, cut_at_stop_token_text, stop_token_ids
from lc_bench.runners.hf import HFOptions, HFRunner
from lc_bench.runners.testing import EchoRunner, ScriptedOptions
from lc_bench.schema import ChatMessage, Request


def request(text="The river ran past the mill. " * 4, stop_tokens=(), min_new=0, max_new=6, key="k"):
    return Request(key=key, messages=(ChatMessage(role="user", content=text),), use_chat_template=True,
                   max_new_tokens=max_new, stop_tokens=stop_tokens, min_new_tokens=min_new)


@pytest.mark.parametrize(
    ("text", "min_new", "expected"),
    [
        ("Ann: hi\nBob: bye", 1, ("Ann: hi", True)),
        ("\nAnn: hi\nBob: bye", 1, ("Ann: hi", True)),  # the opening newline could not have ended it
        ("\n\nAnn: hi", 1, ("Ann: hi", False)),
        ("\nAnn: hi\nBob: bye", 0, ("", True)),  # without a minimum the first newline ends it
        ("no newline at all", 1, ("no newline at all", False)),
    ],
)
def test_text_runners_read_token_stops_from_the_text(text, min_new, expected):
    assert cut_at_stop_token_text(text, ("\n",), min_new) == expected


def test_no_token_stops_leave_the_text_alone():
    assert cut_at_stop_token_text("\nkeep\nall", (), 1) == ("\nkeep\nall", False)


def test_echo_runner_applies_token_stops():
    echo = EchoRunner(RunnerContext(model=None, tokenizer=None), ScriptedOptions())  # type: ignore[arg-type]
    text = "line one\nline two"
    plain = next(iter(echo.generate([request(text)]))).text
    stopped = next(iter(echo.generate([request(text, ("\n",), 1)]))).text
    assert "\n" in plain
    assert stopped == plain.split("\n")[0]


@pytest.fixture(scope="module")
def runner(tiny_model_dir, tiny_tokenizer):
    built = HFRunner(RunnerContext(model=resolve_model(str(tiny_model_dir)), tokenizer=tiny_tokenizer),
                     HFOptions(batch_size=4))
    yield built
    built.close()


def greedy_ids(runner, req):
    prompt = runner.tokenizer.prompt_ids(req.messages, req.use_chat_template, req.answer_prefix)
    return runner.model.generate(
        input_ids=runner.torch.tensor([prompt]), max_new_tokens=req.max_new_tokens, do_sample=False,
        pad_token_id=runner.pad_id,
    )[0, len(prompt):].tolist()


def test_hf_ends_at_the_newline_token_but_never_at_the_first(runner, tiny_tokenizer):
    """The tiny random model answers greedily with newline after newline: the samsum case."""
    ids = greedy_ids(runner, request(max_new=8))
    newline = stop_token_ids(tiny_tokenizer, ("\n",))
    assert ids[0] == newline[0], "precondition: the tiny model's greedy first token is a newline"
    plain = next(iter(runner.generate([request(max_new=8)])))
    assert plain.text == tiny_tokenizer.decode(ids) and plain.completion_tokens == 8
    ended = next(iter(runner.generate([request(max_new=8, stop_tokens=("\n",))])))
    assert (ended.text, ended.completion_tokens, ended.finish_reason) == ("", 1, "stop")
    # LongBench's min_length: the newline (and end of sequence) cannot be the first token, so the
    # model writes its next choice, and any later newline ends the reply
    kept = next(iter(runner.generate([request(max_new=8, stop_tokens=("\n",), min_new=1)])))
    assert kept.text and "\n" not in kept.text
    assert kept.completion_tokens >= 1


def test_hf_never_batches_requests_with_other_token_stops(runner):
    reqs = [request(key="a"), request(key="b", stop_tokens=("\n",), min_new=1), request(key="c")]
    batches = runner._batches(reqs)
    assert sorted(map(sorted, batches)) == [[0, 2], [1]]
