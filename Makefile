# upshift: the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is a convenience over plain CMake (see docs/building.md and CMakePresets.json,
# which use the same build directories).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# One job per core; the machines this runs on have two.
JOBS ?= $(shell nproc)
# Seconds per fuzz target for `make fuzz` (the ctest fuzz-smoke runs are only a few seconds each).
FUZZ_SECONDS ?= 60
# Extra arguments for every Google Benchmark binary, e.g. BENCH_ARGS=--benchmark_filter=parse
BENCH_ARGS ?=
LISTEN ?= 127.0.0.1:8080

RELEASE_DIR := build/release
# -Werror here so that `make build` and CI reject new warnings, as the reviewers do.
RELEASE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DUPSHIFT_WARNINGS_AS_ERRORS=ON

.PHONY: all deps build run test bench bench-load bench-ws bench-h2 bench-https fuzz clean help
# Targets are sequential scripts (deps before build, build before run); CMake parallelises inside.
.NOTPARALLEL:
all: build

help:
	@echo "make run         install deps, build Release, serve demo/site on $(LISTEN)"
	@echo "make test        install deps, then Release + ASan/UBSan + fuzz-smoke test runs"
	@echo "make build       Release build in $(RELEASE_DIR)"
	@echo "make bench       Google Benchmark micro benchmarks (Release)"
	@echo "make bench-load  wrk load test: upshift vs nginx on loopback"
	@echo "make bench-ws    WebSocket echo load: upshift vs Boost.Beast vs Node ws on loopback"
	@echo "make bench-h2    h2load over h2c (prior knowledge): upshift vs h2o on loopback"
	@echo "make bench-https wrk over HTTPS (keep-alive and a handshake per request): upshift vs nginx"
	@echo "make fuzz        each libFuzzer target for FUZZ_SECONDS=$(FUZZ_SECONDS) s"
	@echo "make clean       remove the build directories made by this Makefile"

# install-deps is itself fast (no network) when nothing is missing, so no stamp file is needed.
deps:
	@bash scripts/install-deps

build:
	cmake -S . -B $(RELEASE_DIR) $(RELEASE_FLAGS)
	cmake --build $(RELEASE_DIR) -j$(JOBS)

# exec: the server gets Ctrl-C directly and make does not linger as its parent.
run: deps build
	exec $(RELEASE_DIR)/app/upshift serve --listen $(LISTEN)

# The three stages (Release, Debug ASan+UBSan, clang fuzz-smoke), their exact commands and the final
# "N passed, M failed" line live in scripts/run-tests; it stops at the first failing stage.
test: deps
	@JOBS=$(JOBS) bash scripts/run-tests

# The bench option stays in the Release cache afterwards; that only adds the bench targets to `make build`.
bench: deps
	cmake -S . -B $(RELEASE_DIR) $(RELEASE_FLAGS) -DUPSHIFT_BUILD_BENCH=ON
	cmake --build $(RELEASE_DIR) -j$(JOBS)
	@found=0; for b in $(RELEASE_DIR)/bench/*; do \
	    [[ -f $$b && -x $$b ]] || continue; found=1; \
	    echo "== $$b"; "$$b" $(BENCH_ARGS); \
	done; ((found)) || { echo "no benchmark binaries in $(RELEASE_DIR)/bench" >&2; exit 1; }

bench-load: deps build
	bash bench/load/http_vs_nginx.sh

# Only the three binaries the WebSocket run needs (Beast's server takes a while to compile).
bench-ws: deps
	cmake -S . -B $(RELEASE_DIR) $(RELEASE_FLAGS) -DUPSHIFT_BUILD_BENCH=ON
	cmake --build $(RELEASE_DIR) -j$(JOBS) --target ws_load upshift_echo_server beast_echo_server
	BUILD_DIR=$(RELEASE_DIR) bash bench/ws_load/run.sh

bench-h2: deps build
	bash bench/h2load/h2c_vs_h2o.sh

bench-https: deps build
	bash bench/https/https_vs_nginx.sh

fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz

# Only the directories this Makefile creates: build/ may also hold developers' own trees.
clean:
	rm -rf $(RELEASE_DIR) build/asan build/fuzz
