# Mandatbot. `make run` starts everything; `make test` runs the whole test suite.
# See README.md for the configuration (environment variables).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(VENV)/bin/python
BIN         := $(VENV)/bin
PYTHON      ?= $(shell pyenv which python 2>/dev/null || command -v python3.10 || ls -d $(HOME)/.pyenv/versions/3.10*/bin/python 2>/dev/null | tail -n 1 || echo python3)
MODEL_INPUTS := config.yml domain.yml $(sort $(wildcard data/nlu/*.yml data/stories/*.yml)) requirements.lock
MODEL_HASH   = $(shell cat $(MODEL_INPUTS) var/spacy-da/mandat-source.json 2>/dev/null | sha256sum | cut -c1-16)
MODEL        = models/mandatbot-$(MODEL_HASH).tar.gz
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Development tooling runs in dev mode (development secrets allowed; bot/config.py); production
# processes are started without it and refuse development secrets.
test test-fast eval eval-seeds bench bench-admin bench-scale memory: export MANDAT_DEV_MODE := 1

.PHONY: help install spacy lexicon db train run test test-fast eval eval-seeds bench bench-admin lock clean

help:
	@echo "make run   - install, build, train when needed, start the bot on SQLite with a demo catalogue"
	@echo "make test  - the whole test suite (unit, Rasa, end to end)"
	@echo "make eval  - quality report (NLU, retrieval, baselines, acceptance set over REST; reports/)"
	@echo "make train - train the Rasa model if its inputs changed"
	@echo "make run-prod - production topology: nginx :8080, 2 Rasa + 2 action servers, PostgreSQL, Redis"
	@echo "make load  - load test against run-prod (LOAD_USERS=10,50 LOAD_TIME=2m); make load-faults"

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10), "Python 3.10 is required (see .python-version), got " + sys.version' 
	$(BIN)/pip install --quiet --upgrade "pip<25"
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(VENV)/.installed

var/spacy-da/mandat-source.json: $(VENV)/.installed
	$(BIN)/mandat build-spacy

spacy: var/spacy-da/mandat-source.json lexicon

# Danish thesaurus (mythes-da) and Danish-English dictionary (FreeDict) from
# Debian, converted for retrieval (bot/lexicon.py). Installed here when
# missing and we may (root with apt-get); without them retrieval still works
# on its own word lists, with the lower figures `make eval` shows.
LEXICON_PACKAGES := mythes-da dict-freedict-dan-eng
var/lexicon/.built: $(VENV)/.installed
	@if ! dpkg -s $(LEXICON_PACKAGES) >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's $(LEXICON_PACKAGES) ..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $(LEXICON_PACKAGES) >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq $(LEXICON_PACKAGES) >/dev/null; } || true; fi
	$(BIN)/mandat build-lexicon
	@if [ -f var/lexicon/da-related.tsv ] && [ -f var/lexicon/en-da.tsv ]; then touch $@; fi

lexicon: var/lexicon/.built

db: install
	$(BIN)/mandat db upgrade
	$(BIN)/mandat demo --history
	$(BIN)/mandat users demo

# The model file name carries a hash of its inputs: it is trained only when
# config, domain, training data, the lock file or the spaCy source changed.
# Trained models are also kept in MODEL_CACHE (outside the checkout), so a
# fresh clone with unchanged inputs (CI) reuses the model instead of training.
MODEL_CACHE ?= $(HOME)/.cache/mandatbot/models
train: spacy
	@mkdir -p models
	@if [ -f $(MODEL) ]; then echo "Model up to date: $(MODEL)"; \
	elif [ -f $(MODEL_CACHE)/mandatbot-$(MODEL_HASH).tar.gz ]; then \
	  echo "Model from cache: $(MODEL_CACHE)/mandatbot-$(MODEL_HASH).tar.gz"; \
	  cp $(MODEL_CACHE)/mandatbot-$(MODEL_HASH).tar.gz $(MODEL); \
	else \
	  $(BIN)/rasa train --fixed-model-name mandatbot-$(MODEL_HASH) --out models && \
	  mkdir -p $(MODEL_CACHE) && cp $(MODEL) $(MODEL_CACHE)/; fi
	@find models -name 'mandatbot-*.tar.gz' ! -name 'mandatbot-$(MODEL_HASH).tar.gz' -delete
	@ln -sf mandatbot-$(MODEL_HASH).tar.gz models/current.tar.gz

run: db train
	MODEL=$(MODEL) scripts/run.sh

test: train
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

test-fast: spacy
	$(BIN)/python -m pytest -ra -m "not model and not live" $(PYTEST_ARGS)

eval: train
	$(BIN)/python -m scripts.evaluate

# Intent macro-F1 of ours vs Rasa's default pipeline over several DIET seeds (SEEDS=1,2,3).
SEEDS ?= 1,2,3
eval-seeds: spacy
	$(BIN)/python -m scripts.nlu_seeds --seeds $(SEEDS)

bench: train
	$(BIN)/python -m scripts.bench

bench-admin: install
	$(BIN)/python -m scripts.bench_admin

# Data scale (issue 15): 1,000 units, 100,000 entries, 1,000,000 questions on SQLite and on PostgreSQL
# (database mandatbot_bench on 127.0.0.1, dropped and refilled); retrieval p50/p95, admin page times and
# the query plans of slow statements in reports/bench-scale.md (scripts/bench_scale.py).
.PHONY: bench-scale memory
bench-scale: spacy
	$(BIN)/python -m scripts.bench_scale

# Memory (RSS/PSS) of every process of `make run` and `make run-prod`, and what the Rasa server's memory is
# made of (reports/memory.md; scripts/memory_report.py). Needs nginx, PostgreSQL, Redis and port 5055 free.
memory: train
	$(BIN)/python -m scripts.memory_report --ideas

# Re-resolve every dependency together into the one lock file.
lock:
	rm -rf /tmp/mandat-lock && $(PYTHON) -m venv /tmp/mandat-lock
	/tmp/mandat-lock/bin/pip install --quiet --upgrade "pip<25"
	/tmp/mandat-lock/bin/pip install --quiet -r requirements.in
	/tmp/mandat-lock/bin/pip freeze --exclude-editable > requirements.lock

# The chat widget (widget/): npm dependencies (socket.io-client; esbuild and
# axe-core for the build and the browser tests) and the built single-file
# asset bot/admin/static/mandat-widget.js, which is committed.
.PHONY: widget widget-deps
widget/node_modules/.package-lock.json: widget/package.json widget/package-lock.json
	npm ci --prefix widget --no-audit --no-fund
widget-deps: widget/node_modules/.package-lock.json
widget: widget-deps
	npm run --prefix widget build
test: widget-deps

# Debian's chromium for the browser tests (Playwright drives it; browser
# downloads do not work here). Installed when missing and we may (root with
# apt-get); otherwise install the packages chromium and chromium-driver yourself.
BROWSER_PACKAGES := chromium chromium-driver
.PHONY: browser
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's $(BROWSER_PACKAGES) for the browser tests ..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; }; fi
test: browser

# Production topology on one machine (issue 15; scripts/run_prod.sh, README "Produktion"): nginx on
# 127.0.0.1:8080 in front of 2 Rasa servers, 2 action servers and the admin app, on PostgreSQL and
# Redis at 127.0.0.1. Installs Debian's nginx when missing and we may (root with apt-get).
.PHONY: run-prod load load-faults
run-prod: train
	@if ! command -v nginx >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's nginx ..."; export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq nginx >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }; fi
	MODEL=$(MODEL) scripts/run_prod.sh

# Load test against a running `make run-prod` (scripts/load/): LOAD_USERS runs one after the other,
# LOAD_TIME each; LOAD_THINK scales the 5-15 s thinking time (0.1 for short runs). Writes
# reports/load.md and reports/load.png.
LOAD_USERS ?= 10,50
LOAD_TIME  ?= 2m
LOAD_THINK ?= 1
LOAD_HOST  ?= http://127.0.0.1:8080
load: install
	$(BIN)/python -m scripts.load.run --users $(LOAD_USERS) --time $(LOAD_TIME) --think-scale $(LOAD_THINK) --host $(LOAD_HOST)

# Kill one Rasa server and one action server during a small steady load (reports/load-faults.md).
load-faults: install
	$(BIN)/python -m scripts.load.faults --host $(LOAD_HOST)

clean:
	rm -rf models results var/spacy-da
