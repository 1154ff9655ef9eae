# Two commands do all set-up on a fresh machine with Python 3.11:
#   make run    the whole system (web, worker, beat, sandbox) on embedded defaults
#   make test   the test suite against local PostgreSQL and Redis
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint contracts gates bench install services clean lock screenshots

# requirements.lock is the runtime (what production installs); requirements-dev.lock adds
# the sandbox, the demo runner, tests and linters on top of the same pins.
# Both are compiled with uv from pyproject.toml: `make lock`.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

lock:
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/python -m uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev -c requirements.lock \
		--python-version 3.11 -o requirements-dev.lock

# The sandbox keeps its state (wallet, orders, ledger ids) in memory, so every start is a
# new supplier account: the demo database and broker folders start afresh with it.
run: $(STAMP)
	rm -rf var/db.sqlite3 var/celery var/celerybeat-schedule*
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo_setup
	$(BIN)/honcho start -f Procfile.dev

services:
	scripts/ensure-services

# Every comparison in bench/ in one process run, printed as one table of ratios (README
# "Performance"). It fills the database DATABASE_URL names (default .../bench).
bench: $(STAMP) services
	$(BIN)/python -m bench

# docs/screenshots/*.png from a seeded demo in its own SQLite file (scripts/screenshots.py).
screenshots: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/python scripts/screenshots.py

test: $(STAMP) services
	scripts/ensure-chromium
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The layer contracts alone (pyproject [tool.importlinter], docs/architecture.md
# "Layers, enforced"); also part of lint.
contracts: $(STAMP)
	$(BIN)/lint-imports

# Release gates: the production deploy checks, the dependency audit, the security lint.
# `check --deploy` needs the variables production settings insist on; these are dummy
# values for the check only (nothing connects to the database or Redis).
GATES_ENV := DJANGO_SETTINGS_MODULE=backoffice.settings.production \
	SECRET_KEY=gates-dummy-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP \
	FIELD_ENCRYPTION_KEYS=gates-dummy-fernet-key KEY_HASH_SECRET=gates-dummy \
	LICENDI_API_KEY=gates-dummy ALLOWED_HOSTS=backoffice.example \
	DATABASE_URL=postgres://gates@127.0.0.1:5432/gates REDIS_URL=redis://127.0.0.1:6379/0
# Known vulnerabilities without a fixed release, each with why it does not apply here:
#   --ignore-vuln ID   # package: reason
AUDIT_IGNORES :=
BANDIT_PACKAGES := backoffice catalog orders wallet webhooks channel dashboard notifications licendi sandbox

gates: $(STAMP)
	env $(GATES_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	scripts/audit-deps $(AUDIT_IGNORES)
	$(BIN)/python scripts/bandit-gate $(BANDIT_PACKAGES)

clean:
	rm -rf $(VENV) var staticfiles
