# concord: the two commands a new user needs, and the build behind them.
#   make        builds build/concord
#   make demo   the main job: a live sync between real Request Tracker and
#               Redmine servers on loopback (installs them the first time)
#   make sim-demo  a narrated simulation of three systems
#   make test   everything CI runs; ends with "N passed, N failed, N skipped"
#   make fuzz   every libFuzzer harness for FUZZ_SECONDS (default 600) each
# Each target installs the Debian packages it needs when they are missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps demo sim-demo test fuzz clean

all: $(BUILD)/concord

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

$(BUILD)/concord: deps $(BUILD)/build.ninja FORCE
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false

# The fuzzers: clang with libFuzzer, ASan and UBSan (tests/fuzz).
$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang meson setup $(FUZZ_BUILD) $(MESON_OPTS) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

demo: $(BUILD)/concord
	./scripts/demo.sh

sim-demo: $(BUILD)/concord
	./$(BUILD)/concord sim --seed 7 --runs 1 --systems 3 --faults all --hours 1 --narrate

test: deps $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	./tests/run.sh $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# Each harness replays its corpus, then fuzzes FUZZ_SECONDS; new inputs and
# failing ones land in $(FUZZ_BUILD)/fuzz-out (see tests/fuzz/README.md).
fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_OUT=$(CURDIR)/$(FUZZ_BUILD)/fuzz-out \
		meson test -C $(FUZZ_BUILD) --suite fuzz --timeout-multiplier 0 --print-errorlogs -v

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

.PHONY: FORCE
FORCE:
