# The two quick-start commands: `make run` and `make test`. Each installs what it needs first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: run test build deps deps-test cluster sanitize tsan bench clean

deps:
	scripts/install-deps.sh build

deps-test:
	scripts/install-deps.sh test

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) --target repute -j $(JOBS)

# Builds and starts the server on the embedded SQLite database, in development mode.
run: build
	./$(BUILD)/repute serve --dev

# A private PostgreSQL and two nodes on it (127.0.0.1:8080 and :8081), until Ctrl-C: scripts/cluster.sh.
cluster: build
	scripts/install-deps.sh cluster
	scripts/cluster.sh

# Builds everything and runs the whole test suite (unit, integration, interop).
test: deps-test
	scripts/test.sh $(BUILD)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps-test
	REPUTE_SANITIZE=1 scripts/test.sh $(BUILD)-asan

# The tests that exercise threads (store, delivery, scans, the server) under ThreadSanitizer.
tsan: deps-test
	scripts/tsan.sh $(BUILD)-tsan

bench:
	scripts/install-deps.sh bench
	bench/run.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan
