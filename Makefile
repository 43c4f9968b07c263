# GridLoop — the two commands: `make run` and `make test`. Everything installs itself into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SERVICES := directory intake dispatch handling feedback supervision cobuild web
PACKAGES := shared stack $(addprefix services/,$(SERVICES))
# promtool checks and unit-tests the alert rules; Debian's prometheus package carries it (unpacked, not installed)
PROMTOOL := $(VENV)/tools/usr/bin/promtool
# The gateway of the embedded stack (deploy/gateway/routes.conf, production's routes): Debian's nginx package, unpacked likewise
NGINX := $(VENV)/tools/usr/sbin/nginx
# The web service serves its front-end packages itself, pinned in services/web/package-lock.json
WEB_ASSETS := services/web/node_modules/.package-lock.json
# Browser tests drive Debian's Chromium (never a browser download) with CJK fonts for the Chinese pages
CHROMIUM := /usr/bin/chromium

# What these targets run (the embedded stack, the demo, `make token`, the CLIs) is development; a
# service started without GRIDLOOP_ENVIRONMENT runs as in production and refuses development tokens.
export GRIDLOOP_ENVIRONMENT ?= development

.PHONY: install run demo test unit integration e2e browser fuzz reliability bench token dlq directory-export directory-import stats-rebuild lint clean

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	touch $(STAMP)

install: $(STAMP) $(WEB_ASSETS) $(NGINX)

$(WEB_ASSETS): services/web/package.json services/web/package-lock.json
	cd services/web && npm ci --no-audit --no-fund --loglevel=error

$(CHROMIUM):
	(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)) >/dev/null
	test -x $(CHROMIUM)

$(PROMTOOL): | $(STAMP)
	mkdir -p $(VENV)/tools
	cd $(VENV)/tools && (apt-get download prometheus || (apt-get update -qq && apt-get download prometheus)) >/dev/null \
		&& dpkg-deb -x prometheus_*.deb . && rm prometheus_*.deb
	test -x $(PROMTOOL)

# Only the nginx package: the binary needs no module packages, and the stack writes its own whole
# configuration (no nginx-common /etc/nginx). Its libraries (libssl3, libpcre2, zlib, libcrypt) are Debian's base.
$(NGINX): | $(STAMP)
	mkdir -p $(VENV)/tools
	cd $(VENV)/tools && (apt-get download nginx || (apt-get update -qq && apt-get download nginx)) >/dev/null \
		&& dpkg-deb -x nginx_*.deb . && rm nginx_*.deb
	$(NGINX) -v

run: $(STAMP) $(WEB_ASSETS) $(NGINX) ## start broker, database, the services and the web front door with demo data
	$(BIN)/gridloop-stack --data var

demo: $(STAMP)          ## drive realistic traffic through a running `make run`
	$(BIN)/gridloop-demo

test: lint $(PROMTOOL) $(NGINX) $(WEB_ASSETS) $(CHROMIUM) ## lint, then unit, integration, end-to-end and browser tests
	$(BIN)/pytest -q --durations=12

unit: $(STAMP) $(PROMTOOL) $(NGINX)
	$(BIN)/pytest -q -m unit

integration: $(STAMP) $(NGINX)
	$(BIN)/pytest -q -m integration

e2e: $(STAMP) $(NGINX) $(WEB_ASSETS)
	$(BIN)/pytest -q -m e2e

browser: $(STAMP) $(NGINX) $(WEB_ASSETS) $(CHROMIUM) ## the apps in a real browser (Playwright + Debian's Chromium); screenshots in var/screenshots
	$(BIN)/pytest -q -m browser

fuzz: $(STAMP) $(NGINX) $(WEB_ASSETS)
	$(BIN)/pytest -q -s -m fuzz

reliability: $(STAMP) $(NGINX) $(WEB_ASSETS) ## long fault-injection run: 2,000 reports, every fault (make test runs a short form)
	GRIDLOOP_FAULT_FORM=long GRIDLOOP_FAULT_LOGS=var/reliability-logs $(BIN)/pytest -q -s -m reliability -k faults

bench: $(STAMP) $(NGINX) $(WEB_ASSETS) $(CHROMIUM) ## report-to-inbox latency one at a time and at 10 and 30 reports/s beside the raw floor, with each stage from the traces; sustained throughput with 1 and 2 instances and CPU per closed ticket; in memory beside durable; filings and staff writes under load beside a bare transaction; supervision's projection rate; indicator queries over 1,000,000 tickets and the rebuild's replay rate; 共建's wish wall, desk and matching with no needs beside 100,000
	$(BIN)/python -m tests.load.bench_latency
	$(BIN)/python -m tests.load.bench_throughput
	$(BIN)/python -m tests.load.bench_durable
	$(BIN)/python -m tests.load.bench_load
	$(BIN)/python -m tests.load.bench_projection
	$(BIN)/python -m tests.load.bench_stats $(ARGS)
	$(BIN)/python -m tests.load.bench_app
	$(BIN)/python -m tests.load.bench_cobuild

token: $(STAMP)         ## make token ROLE=grid_worker ORG=LJ01 SUB=gw-1
	@$(BIN)/gridloop-token --role "$(ROLE)" --org "$(ORG)" --sub "$(SUB)"

directory-export: $(STAMP)  ## the running directory to DIR/directory.yaml + DIR/grids.geojson (DIR=var/directory)
	GRIDLOOP_TOKEN="$$($(BIN)/gridloop-token --role admin --sub directory-admin)" $(BIN)/gridloop-directory export $(or $(DIR),var/directory)

directory-import: $(STAMP)  ## check DIR's files, then create or replace every record (announced to all services)
	GRIDLOOP_TOKEN="$$($(BIN)/gridloop-token --role admin --sub directory-admin)" $(BIN)/gridloop-directory import $(or $(DIR),var/directory)

stats-rebuild: $(STAMP) ## stop supervision first: rebuild its read models from the start of the tickets, needs and volunteering topics
	$(BIN)/gridloop-supervision-rebuild $(ARGS)

dlq: $(STAMP)           ## dead letters: make dlq ARGS=list | ARGS="show TOPIC OFFSET" | ARGS="replay TOPIC"
	$(BIN)/gridloop-dlq $(ARGS)

lint: $(STAMP) $(WEB_ASSETS) ## ruff, mypy strict on shared/ and every service, and ESLint on the web service's own JavaScript
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd services/web && node_modules/.bin/eslint --max-warnings 0 src/gridloop/web/static eslint.config.js

clean:
	rm -rf $(VENV) var services/web/node_modules
