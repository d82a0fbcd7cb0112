# SPAK's commands. `make demo` runs the main job, `make test` runs every test.
SHELL := /bin/bash
SWIFT_BUILD_FLAGS ?=
VENV := .venv
PYTHON := $(VENV)/bin/python
SPAK := .build/debug/spak
EXAMPLES := examples/*.spak examples/kernels/*.spak

.PHONY: demo build test test-swift test-python bench bench-check bench-kernel bench-tools clean

## The main job: build spak, check the shipped agents, and run one offline end to end, its
## answers taken from a prepared file (no network, no GPU).
demo: build
	$(SPAK) check $(EXAMPLES)
	$(SPAK) run examples/hello.spak --answers examples/hello.answers.jsonl

build:
	swift build $(SWIFT_BUILD_FLAGS)

## Every test: Swift Testing, then pytest (the grammar corpus against lark and the binary, and
## the kernel's process-level tests: crash recovery, bad input, golden traces, schemas).
test: build test-swift test-python

test-swift:
	swift test $(SWIFT_BUILD_FLAGS)

test-python: $(PYTHON)
	SPAK_BIN=$(SPAK) $(PYTHON) -m pytest -q Tests/Grammar Tests/Kernel

$(PYTHON): requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(PYTHON)

## `spak check` on generated 10,000- and 100,000-line programs, as whole processes, with the
## release binary as it ships (Swift runtime linked statically; built in .build-static).
bench-check:
	swift build -c release --static-swift-stdlib --scratch-path .build-static
	python3 bench/check_bench.py --spak .build-static/release/spak

## The step machine: resume latency, step overhead against LangGraph + SqliteSaver (installed
## into .venv-bench), and peak memory of a 100,000-step run.
bench-kernel:
	swift build -c release --static-swift-stdlib --scratch-path .build-static
	python3 bench/kernel_bench.py --spak .build-static/release/spak

## Live tools: the time tool.run adds to spawning the same command directly (C baseline).
bench-tools:
	swift build -c release --static-swift-stdlib --scratch-path .build-static
	python3 bench/tools_bench.py --spak .build-static/release/spak

bench: bench-check bench-kernel bench-tools

clean:
	rm -rf .build .build-static $(VENV) .venv-bench bench/out
