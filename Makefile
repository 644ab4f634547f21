# CryptoPay Auth. Quick start: `make run` (serve on http://127.0.0.1:8080)
# and `make test` (every test, through CTest).

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
FUZZ_DIR  ?= build-fuzz
JOBS      ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build run test test-unit test-e2e test-asan fuzz bench clean

all: build

# Installs missing Debian packages (apt-get only when something is missing).
deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# nginx on 127.0.0.1:$AUTH_HTTP_PORT (8080) in front of the worker pool and
# the mailer, in the foreground; state under ./var. Ctrl-C stops it all. A
# production /etc/cryptopay-auth.env on this machine is not read (set
# CRYPTOPAY_AUTH_CONFIG to read an env file). Exported rather than written in
# the recipe: make then runs the binary itself, with no shell between them
# that would keep make's SIGTERM from it.
run: export CRYPTOPAY_AUTH_CONFIG ?=
run: build
	$(BUILD_DIR)/cryptopay-auth run

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-e2e: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L e2e

# Load test with wrk (bench/README.md): the release build served as `make run`
# serves it, on a free port with a fresh state in $(BUILD_DIR)/bench-state;
# a markdown report on stdout, the same as JSON in $(BUILD_DIR)/bench.json.
# BENCH_SECONDS (10) per scenario. Fails on any unexpected response or lost mail.
# Then the same on PostgreSQL, one node and two (a server the bench starts;
# one that cannot start fails it); BENCH_POSTGRESQL=0 leaves that part out.
bench: build
	@WITH_EXTRAS=1 scripts/install-deps.sh
	/usr/bin/python3 bench/run.py --binary $(BUILD_DIR)/cryptopay-auth \
	  --state-dir $(BUILD_DIR)/bench-state --json $(BUILD_DIR)/bench.json

# libFuzzer drivers (fuzz/): a clang build with ASan and UBSan in
# $(FUZZ_DIR), the saved crash inputs and seeds run once each, then every
# driver fuzzed for FUZZ_SECONDS on a copy of its seed corpus, FUZZ_JOBS at a
# time, from libFuzzer seed FUZZ_SEED (random when empty). Fails when any
# driver crashes; crash inputs land in $(FUZZ_DIR)/artifacts/<target>/.
# See fuzz/run.sh.
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SEED    ?=

.PHONY: fuzz-deps fuzz-build fuzz-regress

fuzz-deps:
	@WITH_EXTRAS=1 scripts/install-deps.sh

$(FUZZ_DIR)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCPA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo

fuzz-build: fuzz-deps $(FUZZ_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers

fuzz-regress: fuzz-build
	FUZZ_DIR=$(FUZZ_DIR) fuzz/run.sh regress

fuzz: fuzz-regress
	FUZZ_DIR=$(FUZZ_DIR) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_SEED=$(FUZZ_SEED) fuzz/run.sh fuzz $(FUZZ_SECONDS)

# The whole suite (unit and end-to-end: workers, mailer and CLI included)
# built with AddressSanitizer and UndefinedBehaviorSanitizer. Any report, in
# any process, fails the run: reports go to $(ASAN_DIR)/sanitizer-logs/.
SANITIZER_LOGS = $(abspath $(ASAN_DIR))/sanitizer-logs
$(ASAN_DIR)/CMakeCache.txt:
	cmake -S . -B $(ASAN_DIR) -DCPA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo

test-asan: deps $(ASAN_DIR)/CMakeCache.txt
	cmake --build $(ASAN_DIR) -j $(JOBS)
	rm -rf $(SANITIZER_LOGS) && mkdir -p $(SANITIZER_LOGS)
	cd $(ASAN_DIR) && \
	  ASAN_OPTIONS=log_path=$(SANITIZER_LOGS)/asan:detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=log_path=$(SANITIZER_LOGS)/ubsan:print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	@if [ -n "$$(ls -A $(SANITIZER_LOGS))" ]; then \
	  echo "sanitizer reports:"; cat $(SANITIZER_LOGS)/*; exit 1; fi
	@echo "sanitizers: no reports"

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
