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
# the mailer, in the foreground; state under ./var. Ctrl-C stops it all.
run: build
	$(BUILD_DIR)/cryptopay-auth run

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-e2e: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L e2e

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
