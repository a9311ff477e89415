# Two commands for a fresh machine: `make run` and `make test`.
# Both create .venv from the hashed development lock (requirements-dev.txt)
# when it is missing or either lock file is newer than it.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

# A fresh checkout is a development machine: DEBUG on, SQLite, the filesystem broker.
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format lock migrate seed clean system-packages

# --require-hashes: every file pip downloads must match a hash in the lock.
$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

# Pango and fonts for the printable handout (WeasyPrint): checked in a moment, installed if missing.
system-packages:
	@.ci/system-packages

migrate: $(STAMP) system-packages
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@$(PY) manage.py push_keys
	@if [ -z "$$EMAIL_HOST" ]; then echo "EMAIL_HOST is not set: email is written to files under var/mail/"; fi
	@echo "StretchHub: http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/)"
	$(VENV)/bin/honcho start -f Procfile

test: $(STAMP) system-packages
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# After editing requirements.in or requirements-dev.in. Pins already in the
# locks are kept; to move one package: make lock LOCK_ARGS="--upgrade-package Django"
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: $(STAMP)
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf var/ staticfiles/ test-artifacts/
