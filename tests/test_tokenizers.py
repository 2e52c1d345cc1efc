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
