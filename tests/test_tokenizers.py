from lc_bench.schema import ChatMessage


def test_chat_render_and_ids_agree(tiny_tokenizer):
    messages = (ChatMessage(role="user", content="Where is the lantern?"),)
    text = tiny_tokenizer.render(messages, answer_prefix="It is")
    assert text.startswith("<|user|>\nWhere is the lantern?<|end|>\n<|assistant|>\n")
    assert text.endswith("It is")
    ids = tiny_tokenizer.prompt_ids(messages, answer_prefix="It is")
    assert len(ids) == tiny_tokenizer.count(messages, answer_prefix="It is")
    encoded, offsets = tiny_tokenizer.encode_rendered(text)
    assert encoded == ids and len(offsets) == len(ids)


def test_raw_prompt_skips_the_template(tiny_tokenizer):
    messages = (ChatMessage(role="user", content="plain text"),)
    assert tiny_tokenizer.render(messages, use_chat_template=False) == "plain text"


def test_template_hash_is_the_sha256_of_the_template(tiny_tokenizer):
    import hashlib

    from tests.helpers.tiny_model import CHAT_TEMPLATE

    assert tiny_tokenizer.chat_template_sha256 == hashlib.sha256(CHAT_TEMPLATE.encode()).hexdigest()


def test_a_count_only_encode_gives_the_same_ids_and_starts_read_only_when_asked(tiny_tokenizer):
    """cwe, fwe and vt fit with `encode_rendered_for_count`: the same ids, and starts that are the
    list `encode_rendered` gives, in every way the fitting code reads a list."""
    from bisect import bisect_left, bisect_right

    from lc_bench.tokenizers import TokenStarts

    messages = (ChatMessage(role="user", content="The lantern is in the cellar, behind the blue door. " * 20),)
    text = tiny_tokenizer.render(messages, answer_prefix="It is")
    ids, starts = tiny_tokenizer.encode_rendered(text)
    lazy_ids, lazy = tiny_tokenizer.encode_rendered_for_count(text)
    assert lazy_ids == ids
    assert tiny_tokenizer.fast is not None  # the fast path (the transformers one returns lists)
    assert isinstance(lazy, TokenStarts) and lazy._starts is None
    assert len(lazy) == len(starts) and lazy._starts is None  # its length needs no conversion
    assert lazy == starts and starts == lazy and lazy != starts[:-1]
    assert lazy[0] == starts[0] and lazy[-1] == starts[-1] and lazy[3:9] == starts[3:9]
    assert isinstance(lazy[3:9], list) and list(lazy) == starts
    middle = starts[len(starts) // 2]
    assert bisect_left(lazy, middle) == bisect_left(starts, middle)
    assert bisect_right(lazy, middle + 1) == bisect_right(starts, middle + 1)
    assert lazy[:2] + [7] == starts[:2] + [7] and lazy + [7] == starts + [7] and [7] + lazy == [7] + starts
    assert lazy._encoding is None  # converted once, the encoding let go
