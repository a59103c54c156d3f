# Makefile - the short commands of the README; CMake presets do the work.
#
#   make test             install missing deps, build (dev preset), run every test;
#                         with CI set, also the asan and tsan runs and test-valgrind
#   make test-valgrind    a subset of the dev tests under valgrind memcheck
#   make test-sanitizers  the asan run (all tests) and the tsan run (TSAN_LABELS)
#   make build | bench | format | install PREFIX=... | uninstall | clean | demo
#   make deploy-files     regenerate deploy/'s dashboard, provisioning and rules
#   make bench-compare    vitals beside client_golang, VictoriaMetrics/metrics and
#                         the Python client (installs Go; REPEATS=5 rounds)
#
# BUILD_DIR moves every build tree (default build/<preset>), JOBS sets the
# parallelism of builds and test runs.
#
# SPDX-License-Identifier: MIT

BUILD_DIR ?= build
JOBS ?= 2
PREFIX ?= /usr/local
# Tests the ThreadSanitizer run covers: a ctest label regular expression.
TSAN_LABELS ?= concurrency|core

CMAKE ?= cmake
CTEST ?= ctest
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

.PHONY: all deps build test test-dev test-sanitizers test-asan test-tsan bench bench-compare \
        format install uninstall clean demo deploy-files test-valgrind

all: build

deps:
	tools/install-deps.sh

# configure,<preset>: configure the preset's tree under $(BUILD_DIR).
configure = $(CMAKE) --preset $(1) -B $(BUILD_DIR)/$(1)
compile = $(CMAKE) --build $(BUILD_DIR)/$(1) -j$(JOBS)

build:
	$(call configure,dev)
	$(call compile,dev)

test: deps
	$(MAKE) --no-print-directory test-dev
ifneq ($(strip $(CI)),)
	$(MAKE) --no-print-directory test-sanitizers
	$(MAKE) --no-print-directory test-valgrind
endif

test-dev: build
	$(CTEST) --test-dir $(BUILD_DIR)/dev $(CTEST_FLAGS)

test-sanitizers: test-asan test-tsan

# tools/valgrind-subset.sh says which tests (VALGRIND_TESTS overrides).
test-valgrind: build
	tools/valgrind-subset.sh $(BUILD_DIR)/dev

test-asan:
	$(call configure,asan)
	$(call compile,asan)
	$(CTEST) --test-dir $(BUILD_DIR)/asan $(CTEST_FLAGS)

test-tsan:
	$(call configure,tsan)
	$(call compile,tsan)
	$(CTEST) --test-dir $(BUILD_DIR)/tsan $(CTEST_FLAGS) -L '$(TSAN_LABELS)'

bench:
	$(call configure,release)
	$(call compile,release)
	@if [ -x $(BUILD_DIR)/release/bench/vitals-bench ]; then \
	    $(BUILD_DIR)/release/bench/vitals-bench; \
	elif [ -f bench/CMakeLists.txt ]; then \
	    echo "bench: $(BUILD_DIR)/release/bench/vitals-bench was not built" >&2; exit 1; \
	else \
	    echo "bench: no benchmarks yet (bench/CMakeLists.txt is missing)"; \
	fi

bench-compare: deps
	BUILD_DIR='$(BUILD_DIR)' JOBS='$(JOBS)' bench/compare/run.py

# Tracked C files; outside a git checkout, every C file of the source folders.
format:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z -- '*.c' '*.h'; \
	else \
	    find include src tests examples bench tools -name '*.[ch]' -print0 2>/dev/null; \
	fi | xargs -0 -r clang-format -i

install:
	$(call configure,release)
	$(call compile,release)
	$(CMAKE) --install $(BUILD_DIR)/release --prefix '$(PREFIX)'

# Removes the files the last install wrote, then the directories that only
# vitals uses once they are empty.
uninstall:
	@manifest=$(BUILD_DIR)/release/install_manifest.txt; \
	if [ ! -f "$$manifest" ]; then echo "uninstall: no $$manifest; nothing installed" >&2; exit 1; fi; \
	while IFS= read -r f || [ -n "$$f" ]; do \
	    [ -n "$$f" ] || continue; \
	    if [ -e "$$f" ] || [ -L "$$f" ]; then echo "rm $$f"; rm -f -- "$$f"; fi; \
	done < "$$manifest"; \
	while IFS= read -r f || [ -n "$$f" ]; do \
	    d=$$(dirname -- "$$f"); \
	    case "$$d" in */vitals) rmdir -- "$$d" 2>/dev/null || true;; esac; \
	done < "$$manifest"

# The generated files of deploy/ (dashboard, Grafana provisioning, rules) from
# the committed exposition deploy/fixtures/reservations.metrics, with this
# tree's vitals command; the deploy_files_drift test fails when they differ.
deploy-files:
	$(call configure,dev)
	$(CMAKE) --build $(BUILD_DIR)/dev -j$(JOBS) --target vitals_cli
	tools/gen-deploy-files.sh $(BUILD_DIR)/dev/src/cli/vitals

clean:
	rm -rf $(BUILD_DIR)/dev $(BUILD_DIR)/asan $(BUILD_DIR)/tsan $(BUILD_DIR)/release

# The reservations service with Redis, traffic and Prometheus on 127.0.0.1 and
# a live RED table (docs/demo.md); DEMO_PORT, PROM_PORT, DEMO_DURATION, ... are
# read from the environment.
demo:
	@BUILD_DIR='$(BUILD_DIR)' JOBS='$(JOBS)' tools/demo.sh
