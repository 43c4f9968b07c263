# GridLoop — the two commands: `make run` and `make test`. Everything installs itself into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SERVICES := directory intake dispatch handling feedback supervision
PACKAGES := shared stack $(addprefix services/,$(SERVICES))
# promtool checks and unit-tests the alert rules; Debian's prometheus package carries it (unpacked, not installed)
PROMTOOL := $(VENV)/tools/usr/bin/promtool

.PHONY: install run demo test unit integration e2e fuzz reliability bench token dlq directory-export directory-import stats-rebuild lint clean

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	touch $(STAMP)

install: $(STAMP)

$(PROMTOOL): | $(STAMP)
	rm -rf $(VENV)/tools && mkdir -p $(VENV)/tools
	cd $(VENV)/tools && (apt-get download prometheus || (apt-get update -qq && apt-get download prometheus)) >/dev/null \
		&& dpkg-deb -x prometheus_*.deb . && rm prometheus_*.deb
	test -x $(PROMTOOL)

run: $(STAMP)           ## start broker, database and the six services with demo data
	$(BIN)/gridloop-stack --data var

demo: $(STAMP)          ## drive realistic traffic through a running `make run`
	$(BIN)/gridloop-demo

test: lint $(PROMTOOL)  ## lint, then unit, integration and end-to-end tests
	$(BIN)/pytest -q --durations=12

unit: $(STAMP) $(PROMTOOL)
	$(BIN)/pytest -q -m unit

integration: $(STAMP)
	$(BIN)/pytest -q -m integration

e2e: $(STAMP)
	$(BIN)/pytest -q -m e2e

fuzz: $(STAMP)
	$(BIN)/pytest -q -s -m fuzz

reliability: $(STAMP)   ## long fault-injection run: 2,000 reports, every fault (make test runs a short form)
	GRIDLOOP_FAULT_FORM=long GRIDLOOP_FAULT_LOGS=var/reliability-logs $(BIN)/pytest -q -s -m reliability -k faults

bench: $(STAMP)         ## report-to-inbox latency; indicator queries over 1,000,000 tickets and the rebuild's replay rate
	$(BIN)/python -m tests.load.bench_loop
	$(BIN)/python -m tests.load.bench_stats $(ARGS)

token: $(STAMP)         ## make token ROLE=grid_worker ORG=LJ01 SUB=gw-1
	@$(BIN)/gridloop-token --role "$(ROLE)" --org "$(ORG)" --sub "$(SUB)"

directory-export: $(STAMP)  ## the running directory to DIR/directory.yaml + DIR/grids.geojson (DIR=var/directory)
	GRIDLOOP_TOKEN="$$($(BIN)/gridloop-token --role admin --sub directory-admin)" $(BIN)/gridloop-directory export $(or $(DIR),var/directory)

directory-import: $(STAMP)  ## check DIR's files, then create or replace every record (announced to all services)
	GRIDLOOP_TOKEN="$$($(BIN)/gridloop-token --role admin --sub directory-admin)" $(BIN)/gridloop-directory import $(or $(DIR),var/directory)

stats-rebuild: $(STAMP) ## stop supervision first: rebuild its read models from the start of the tickets topic
	$(BIN)/gridloop-supervision-rebuild $(ARGS)

dlq: $(STAMP)           ## dead letters: make dlq ARGS=list | ARGS="show TOPIC OFFSET" | ARGS="replay TOPIC"
	$(BIN)/gridloop-dlq $(ARGS)

lint: $(STAMP)          ## ruff, and mypy strict on shared/ and every service
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
