# concord: the two commands a new user needs, and the build behind them.
#   make        builds build/concord
#   make demo   the main job: a live sync between real Request Tracker and
#               Redmine servers on loopback (installs them the first time)
#   make sim-demo  a narrated simulation of three systems
#   make test   everything CI runs; ends with "N passed, N failed"
# Each target installs the Debian packages it needs when they are missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?= -Dwerror=true

.PHONY: all deps demo sim-demo test clean

all: $(BUILD)/concord

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

$(BUILD)/concord: deps $(BUILD)/build.ninja FORCE
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false

demo: $(BUILD)/concord
	./scripts/demo.sh

sim-demo: $(BUILD)/concord
	./$(BUILD)/concord sim --seed 7 --runs 1 --systems 3 --faults all --hours 1 --narrate

test: deps $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja
	./tests/run.sh $(BUILD) $(ASAN_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

.PHONY: FORCE
FORCE:
