from lc_bench.models import ModelRef
from lc_bench.runners.base import RunnerContext, cut_at_stop, public_options
from lc_bench.runners.testing import ConstantRunner, EchoRunner, ScriptedOptions
from lc_bench.schema import ChatMessage, Request


def requests(n):
    return [
        Request(key=f"k{i}", messages=(ChatMessage(role="user", content=f"hello {i}"),),
                use_chat_template=True, max_new_tokens=8)
        for i in range(n)
    ]


def context(tokenizer):
    return RunnerContext(model=ModelRef(name="tiny", source="x"), tokenizer=tokenizer)


def test_echo_and_constant(tiny_tokenizer):
    echo = list(EchoRunner(context(tiny_tokenizer), ScriptedOptions()).generate(requests(2)))
    assert [c.text for c in echo] == ["hello 0", "hello 1"]
    const = list(ConstantRunner(context(tiny_tokenizer), ScriptedOptions(text="nope")).generate(requests(1)))
    assert const[0].text == "nope"


def test_fail_every_produces_error_completions(tiny_tokenizer):
    out = list(EchoRunner(context(tiny_tokenizer), ScriptedOptions(fail_every=2)).generate(requests(4)))
    assert [c.error is not None for c in out] == [False, True, False, True]
    assert out[1].finish_reason == "error" and "scripted failure" in out[1].error.message


def test_cut_at_stop():
    assert cut_at_stop("a\nb", ["\n"]) == ("a", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)
    assert cut_at_stop("abXcdY", ["Y", "X"]) == ("ab", True)


def test_secret_named_options_are_never_public():
    from lc_bench.runners.base import RunnerOptions

    class Options(RunnerOptions):
        api_key: str = "sk-123"
        api_key_env: str = "OPENAI_API_KEY"
        auth_token: str = "t"
        base_url: str = "http://x"

    shown = public_options(Options())
    assert shown == {"api_key_env": "OPENAI_API_KEY", "base_url": "http://x"}
