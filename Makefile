# dualrec — the one entry point.  `make run` serves the app, `make test` runs every check.
# Every target installs what it needs first and is quick when everything is already there.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
APT_PACKAGES := ffmpeg espeak-ng fonts-wqy-zenhei chromium poppler-utils janus janus-tools iproute2 coturn
PY_EXTRAS := postgres,mysql,celery,s3,ai,dev
WEB_DIST := src/dualrec/web/dist/index.html
WEB_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/tsconfig*.json frontend/openapi.json -type f 2>/dev/null)
DATA_DIR ?= var
export DUALREC_DATA_DIR ?= $(DATA_DIR)

.PHONY: help run serve test check lint typecheck importlint webtest pytest test-quick fuzz eval web deps apt python-deps migrate seed bench doctor clean openapi

help:
	@echo "make run     install what is missing, migrate, seed the demo, serve http://127.0.0.1:8000"
	@echo "make test    install what is missing, then lint, type-check, layer contracts and the whole test suite"
	@echo "make check   lint + types + layer contracts only"
	@echo "make test-quick  the tests not marked slow (no e2e, no real-engine QC): a few minutes"
	@echo "make fuzz    the whole API fuzzed from its OpenAPI (schemathesis, 10 min; the suite runs 2 min of it)"
	@echo "make bench   benchmarks (ratios against baselines measured in the same run); one: make bench BENCH=live"
	@echo "             BENCH=live_stack: K live customers against a real serve, the largest K that holds"
	@echo "make eval    the QC evaluation kit: real-media cases scored per check and per verdict"
	@echo "make web     build the front end;  make migrate / seed / doctor / openapi"

# ---------------------------------------------------------------- installation (idempotent)

deps: apt python-deps web

apt: $(STAMPS)/apt
$(STAMPS)/apt: Makefile
	@mkdir -p $(STAMPS)
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  case " $$missing " in *" janus "*) \
	    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then \
	      echo "disabling the system-wide janus service (dualrec runs its own, docs/remote-interview.md)"; \
	      $$SUDO systemctl disable --now janus >/dev/null 2>&1 || true; \
	    fi;; \
	  esac; \
	  case " $$missing " in *" coturn "*) \
	    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then \
	      echo "disabling the system-wide coturn service (configure your TURN host yourself, docs/remote-interview.md)"; \
	      $$SUDO systemctl disable --now coturn >/dev/null 2>&1 || true; \
	    fi;; \
	  esac; \
	fi
	@touch $@

python-deps: $(STAMPS)/python-deps
$(STAMPS)/python-deps: pyproject.toml | $(STAMPS)/apt
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(PY_EXTRAS)]'
	@$(PY) -c "import dualrec, fastapi, sqlalchemy, faster_whisper, dlib, rapidocr_onnxruntime, playwright" \
	  || { echo "python dependencies failed to install"; exit 1; }
	@touch $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

web: $(WEB_DIST)
$(WEB_DIST): frontend/node_modules/.package-lock.json $(WEB_SOURCES)
	cd frontend && npm run --silent gen:api && npm run --silent build
	@test -f $@ && touch $@

# ---------------------------------------------------------------- running

run: deps migrate seed serve

migrate: python-deps
	$(VENV)/bin/dualrec db upgrade

seed: python-deps
	$(VENV)/bin/dualrec seed

serve: python-deps
	$(VENV)/bin/dualrec serve

doctor: python-deps
	$(VENV)/bin/dualrec doctor

openapi: python-deps
	$(VENV)/bin/dualrec openapi > frontend/openapi.json

# ---------------------------------------------------------------- quality gates

check: lint typecheck importlint webtest

lint: python-deps
	$(VENV)/bin/ruff check src tests bench evalkit
	$(VENV)/bin/ruff format --check src tests bench evalkit

typecheck: python-deps
	$(VENV)/bin/mypy

importlint: python-deps
	$(VENV)/bin/lint-imports --no-cache

test: deps check pytest

webtest: frontend/node_modules/.package-lock.json
	cd frontend && npm test --silent

# two workers (tests/conftest.py XDIST_GROUPS: the browser tests one after another on one of them);
# PYTEST_WORKERS=0 runs everything in this one process
PYTEST_WORKERS ?= 2
pytest: deps
	$(VENV)/bin/pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup) --durations=25 $(PYTEST_ARGS)

test-quick: python-deps
	$(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)

fuzz: python-deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} $(VENV)/bin/pytest -p no:cacheprovider tests/integration/test_api_fuzz.py $(PYTEST_ARGS)

bench: deps $(STAMPS)/bench-deps
	$(PY) bench/run.py $(BENCH)

# the [bench] extra (aiortc: bench/rtc.py's load generator), on top of what python-deps installed
$(STAMPS)/bench-deps: pyproject.toml | $(STAMPS)/python-deps
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(PY_EXTRAS),bench]'
	@$(PY) -c "import aiortc" || { echo "the bench dependencies failed to install"; exit 1; }
	@touch $@

eval: deps
	$(PY) -m evalkit.run $(EVAL)

clean:
	rm -rf $(STAMPS) .mypy_cache .ruff_cache .pytest_cache test-artifacts
