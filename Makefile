# Meeting booking in website chat. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10. With pyenv, PYENV_VERSION picks it; elsewhere python3.10 is used as is.
PYTHON310 ?= python3.10
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(PY) -m rasa
DEPS_HASH := $(shell cat requirements.txt requirements-dev.txt constraints.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
# The chat widget's socket.io client: the exact version in package-lock.json, served from our origin.
SOCKETIO_JS := bot/web/static/vendor/socket.io.min.js
# pip prints a warning per package for find-links folders this machine configures but lacks.
PIPQUIET := grep -v "^WARNING: Location '" || true

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help install run train test test-unit test-rasa test-e2e test-scale test-clock check-determinism lint bench load scale-up clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) $(SOCKETIO_JS) ## create the Python 3.10 venv and install the pinned dependencies (pip check clean)
	@[ -x /usr/bin/chromium ] || echo "note: /usr/bin/chromium is missing: the browser tests (tests/e2e/test_browser_*.py) will fail; apt-get install chromium"

$(SOCKETIO_JS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	@mkdir -p $(@D) && cp node_modules/socket.io-client/dist/socket.io.min.js $@

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@if [ ! -x $(PY) ]; then \
	  echo "Creating $(VENV) with Python 3.10..."; \
	  PYENV_VERSION=$${PYENV_VERSION:-3.10} $(PYTHON310) -m venv $(VENV); \
	fi
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10), f"{sys.executable} is Python {sys.version.split()[0]}; Rasa 3.6 needs 3.10 (rm -rf $(VENV))"'
	@echo "Installing pinned dependencies (about 2 minutes on a fresh machine)..."
	@$(PY) -m pip install -q "pip==24.3.1" 2>&1 | $(PIPQUIET)
	@$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt 2>&1 | $(PIPQUIET)
	@$(PY) -m pip check
	@rm -f $(VENV)/.installed-* && touch $@

train: install ## train the model if config, domain or data changed (Rasa then retrains only what changed)
	$(PY) -m bot train

run: install ## migrate, seed the demo, train if needed, start Rasa (5005), actions (5055), web (8000)
	$(PY) -m bot run

TEST_STAGES := train lint test-unit test-rasa test-e2e test-scale
test: install ## everything CI runs, one stage after another, each timed
	@for stage in $(TEST_STAGES); do \
	  start=$$(date +%s); \
	  $(MAKE) --no-print-directory $$stage || { echo "== $$stage FAILED after $$(( $$(date +%s) - start )) s"; exit 1; }; \
	  echo "== $$stage took $$(( $$(date +%s) - start )) s"; \
	done

test-unit: install ## unit and integration tests (no Rasa server, no model)
	$(PY) -m pytest -q -m "not e2e and not scale"

test-rasa: install ## rasa data validate, test stories, held-out NLU accuracy per language (>= 90 %)
	$(RASA) data validate --fail-on-warnings
	$(RASA) test core --stories tests/ --fail-on-prediction-errors --out results
	$(RASA) test nlu --nlu tests/nlu --out results/nlu
	$(PY) -m tests.nlu_accuracy

test-e2e: install ## the three processes on free ports, whole conversations over REST
	$(PY) -m pytest -q -m e2e

test-clock: install train ## the conversation, language and browser tests under faked clocks (libfaketime): weekend, nights, DST days, New Year's Eve
	@command -v faketime >/dev/null || { echo "faketime is missing: apt-get install faketime"; exit 1; }
	$(PY) -m tests.clock_runs

check-determinism: install ## train twice from scratch and compare the predictions on the held-out NLU sets (~10 min)
	$(PY) -m tests.determinism

scale-up: install train ## the scaled topology here: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bot make scale-up
	$(PY) -m bot scale-up --no-train

test-scale: install train ## the scaled topology on Postgres 127.0.0.1:5432 + Redis 127.0.0.1:6379 (tests/scale)
	$(PY) -m pytest -q -m scale

lint: install ## ruff
	$(PY) -m ruff check bot actions tests bench deploy

bench: install train ## slot engine vs naive; turn latency; move/cancel/dashboard vs booking; turn cost vs conversation length; CPU per booking vs Rasa's floor
	$(PY) -m bench.slots
	$(PY) -m bench.turns
	$(PY) -m bench.after
	$(PY) -m bench.length
	$(PY) -m bench.floor

load: install train ## N visitors book whole meetings on 1 then 2 Rasa servers (Postgres + Redis); results/load.md
	$(PY) -m bench.load

clean: ## remove the venv, models, results and var/
	rm -rf $(VENV) models results var .pytest_cache
