# banditkit: `make dev` serves the API and dashboard on SQLite; `make test` is the gate.
SHELL := /bin/bash
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
# Python 3.13 is the Lambda runtime we target; pyenv on these machines carries one.
PY313 := $(lastword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3.13))
PYTHON ?= $(if $(PY313),$(PY313),python3)

.PHONY: dev test lint fmt unit bench clean

$(BIN)/.installed: pyproject.toml
	@if [ "$(PYTHON)" = "python3" ]; then echo "note: Python 3.13 not found; using $$(python3 --version) (3.11+ works; Lambda runs 3.13)"; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

dev: $(BIN)/.installed
	$(BIN)/python -m banditkit.local --host $(HOST) --port $(PORT)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# api: every functions/*/app.py is a module named `app`; check each on its own.
	@for f in functions/*/app.py; do $(BIN)/mypy --no-error-summary $$f || exit 1; done

fmt: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit -q

# The whole gate: lint, types, then every test tier with a real PostgreSQL.
test: lint
	scripts/with_postgres.sh $(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/engine_speed.py
	$(BIN)/python bench/regret.py
	$(BIN)/python bench/regret.py --sharpened --jobs 2
	$(BIN)/python bench/regret.py --sharpened --defaults --jobs 2

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# --- dashboard ---
.PHONY: vendor-chartjs
# Refresh the vendored Chart.js 4 from its npm package (CHARTJS=4.6.1 pins a release).
CHARTJS ?= 4
vendor-chartjs:
	scripts/vendor_chartjs.sh $(CHARTJS)

# ---- AWS (SAM): sam-venv, sam-build, deploy ---------------------------------------------
# SAM CLI lives in its own virtualenv: installed into .venv it would downgrade boto3 and
# pydantic under the app. `make test` needs it for the infra tier (tests/infra).
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
ARCH ?= arm64
SAM_ENV ?= dev
SAM_BUILD_DIR ?= .aws-sam/build
# `sam build` looks for `python3.13` on PATH; pyenv's shim answers only when PYENV_VERSION
# lists 3.13, so put the interpreter found above first.
SAM_RUN := env PATH="$(if $(PY313),$(dir $(PY313)):)$$PATH" SAM_CLI_TELEMETRY=0

.PHONY: sam-venv sam-build deploy bench-cold-start

$(SAM_VENV)/bin/.installed:
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --upgrade pip
	$(SAM_VENV)/bin/python -m pip install -q 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@touch $@

sam-venv: $(SAM_VENV)/bin/.installed

test: $(SAM_VENV)/bin/.installed

# Build every function and layer for ARCH (arm64 ships; x86_64 lets CI run a built handler),
# remove from the layers what Lambda never runs and strip their extension modules
# (scripts/prune_layer.py says what), then compile the bytecode of everything that ships:
# SAM's build leaves none, and Lambda's read-only /opt and /var/task would make every cold
# start compile what it imports. Unchecked-hash bytecode is never compared with its source.
sam-build: $(SAM_VENV)/bin/.installed $(BIN)/.installed
	$(SAM_RUN) $(SAM) build --template-file template.yaml --build-dir $(SAM_BUILD_DIR) \
		--cache-dir $(SAM_BUILD_DIR)-cache --cached --parameter-overrides Arch=$(ARCH)
	$(BIN)/python scripts/prune_layer.py $(SAM_BUILD_DIR)/*Layer/python
	$(or $(PY313),python3.13) -m compileall -q -j0 --invalidation-mode unchecked-hash \
		$(SAM_BUILD_DIR)/*Layer/python $(SAM_BUILD_DIR)/*Function

# Build for arm64, deploy the SAM_ENV environment of samconfig.toml (dev or prod; the first
# time, run `sam deploy --guided` instead, see the README), then upload frontend/.
deploy: ARCH = arm64
deploy: sam-build
	$(SAM_RUN) $(SAM) deploy --config-env $(SAM_ENV) --template-file $(SAM_BUILD_DIR)/template.yaml
	$(BIN)/python scripts/upload_dashboard.py --config-env $(SAM_ENV)

# Import time of each built handler vs a one-route FastAPI app, and artifact sizes.
bench-cold-start: $(SAM_VENV)/bin/.installed $(BIN)/.installed
	$(BIN)/python bench/cold_start.py

# --- harden: dependency vulnerability scan (network: PyPI's JSON API; not part of `make test`)
# pip-audit lives in its own venv so it never changes the dev environment it audits. Where
# PyPI's per-version endpoint is unreachable pip-audit skips every package (it says which);
# scripts/audit_pypi.py then checks what the project endpoint can tell (docs/operations.md).
AUDIT_VENV := .venv-audit
.PHONY: audit
audit: $(BIN)/.installed
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/python -m pip install -q pip-audit; }
	$(BIN)/python -m pip freeze --exclude-editable > $(AUDIT_VENV)/installed.txt
	@echo "== pip-audit: the Lambda layer's requirements, resolved"
	$(AUDIT_VENV)/bin/pip-audit --vulnerability-service pypi --progress-spinner off -r layers/banditkit/requirements.txt
	@echo "== pip-audit: the installed dev environment (.venv)"
	$(AUDIT_VENV)/bin/pip-audit --vulnerability-service pypi --progress-spinner off --no-deps --disable-pip -r $(AUDIT_VENV)/installed.txt
	@echo "== PyPI project data: the Lambda layer's pins"
	$(BIN)/python scripts/audit_pypi.py layers/banditkit/requirements.txt
	@echo "== PyPI project data: the installed dev environment"
	$(BIN)/python scripts/audit_pypi.py $(AUDIT_VENV)/installed.txt
