"""tiktoken encodings as the length tokenizer of hosted API models (quicktok-v1 offline)."""

from __future__ import annotations

import json

import pytest

from lc_bench.errors import UsageError
from lc_bench.schema import ChatMessage
from lc_bench.tokenizer_tiktoken import encoding_name_for, is_tiktoken_spec, load_tiktoken
from tests.e2e.test_cli import lc_bench, records
from tests.helpers.fake_openai import FakeOpenAIServer

pytest.importorskip("quicktok")


def test_ids_match_tiktokens_published_ones():
    # cl100k_base's ids for "hello world", as tiktoken's own README and tests give them
    assert load_tiktoken("tiktoken:cl100k_base", "any").encode("hello world") == [15339, 1917]


def test_a_literal_special_token_in_a_document_is_plain_text():
    tokenizer = load_tiktoken("tiktoken:o200k_base", "any")
    ids = tokenizer.encode("before <|endoftext|> after")
    assert tokenizer.encoding.eot_token not in ids
    assert tokenizer.decode(ids) == "before <|endoftext|> after"


@pytest.mark.parametrize(
    ("model", "encoding"),
    [("gpt-4o-mini", "o200k_base"), ("openai/gpt-4.1", "o200k_base"), ("gpt-4", "cl100k_base"),
     ("gpt-3.5-turbo", "cl100k_base")],
)
def test_the_encoding_follows_the_model_name(model, encoding):
    assert encoding_name_for("tiktoken", model) == encoding
    assert encoding_name_for("tiktoken:cl100k_base", model) == "cl100k_base"


def test_an_unknown_model_or_encoding_is_bad_input():
    with pytest.raises(UsageError, match="tiktoken:o200k_base"):
        encoding_name_for("tiktoken", "my-local-llama")
    with pytest.raises(UsageError, match="no_such_base"):
        load_tiktoken("tiktoken:no_such_base", "any")
    assert is_tiktoken_spec("tiktoken") and is_tiktoken_spec("tiktoken:o200k_base")
    assert not is_tiktoken_spec("tiktokenizer") and not is_tiktoken_spec(None)


def test_offsets_start_each_token_at_its_character():
    tokenizer = load_tiktoken("tiktoken:o200k_base", "any")
    text = "Needle: 7421. 日本語のテキスト and émigré café 🚀🚀 end"
    ids, offsets = tokenizer.encode_rendered(text)
    assert len(offsets) == len(ids) and offsets[0] == 0
    assert offsets == sorted(offsets) and offsets[-1] < len(text)
    # the text before a token's offset is exactly what the earlier tokens decode to, up to a
    # character the earlier tokens only began (an emoji split over tokens)
    for index in range(1, len(ids)):
        prefix = tokenizer.decode(ids[:index])
        assert prefix.startswith(text[: offsets[index]])
        assert prefix[offsets[index]:].strip("\ufffd") == ""
    assert len(set(offsets)) < len(offsets)  # some tokens share a start inside a multi-byte character


def test_render_is_the_contents_without_a_chat_template():
    tokenizer = load_tiktoken("tiktoken:o200k_base", "any")
    messages = [ChatMessage(role="system", content="Be brief. "), ChatMessage(role="user", content="Q?")]
    assert tokenizer.render(messages, answer_prefix=" A:") == "Be brief. Q? A:"
    assert tokenizer.count(messages) == len(tokenizer.encode("Be brief. Q?"))
    assert not tokenizer.has_chat_template and tokenizer.chat_template_sha256 is None


def test_a_hosted_model_run_measures_lengths_in_its_encoding(tmp_path):
    out = tmp_path / "results"
    with FakeOpenAIServer() as server:
        lc_bench("run", "--runner", "openai", "--model", "gpt-4o-mini", "--tokenizer", "tiktoken",
                 "--lengths", "1k,2k", "--depths", "0,100", "--out", str(out), "--name", "api",
                 "--runner-opt", f"base_url={server.url}")
        served_names = set(server.state.models)
    rows = records(out / "api")
    assert len(rows) == 4 and all(r["completion"]["error"] is None for r in rows)
    assert served_names == {"gpt-4o-mini"}
    tokenizer = load_tiktoken("tiktoken:o200k_base", "gpt-4o-mini")
    for row in rows:
        # the echoed prompt is the content the server received; its o200k length is the recorded one
        sent = row["completion"]["text"].removeprefix("[ok] ")
        assert row["input_tokens"] == len(tokenizer.encode(sent))
        budget = row["target_length"] - row["max_new_tokens"]
        assert budget - 40 <= row["input_tokens"] <= budget
    manifest = json.loads((out / "api" / "manifest.json").read_text())
    assert manifest["tokenizer"] == "tiktoken:o200k_base"
    assert manifest["tokenizer_backend"].startswith("quicktok-v1 ")
    assert manifest["context_window"] is None


def test_tiktoken_with_a_local_runner_is_bad_input(tmp_path):
    result = lc_bench("run", "--runner", "hf", "--model", "gpt-4o-mini", "--tokenizer", "tiktoken",
                      "--lengths", "1k", "--out", str(tmp_path), check_rc=2)
    assert "--tokenizer is for API models" in result.stderr and "Traceback" not in result.stderr
