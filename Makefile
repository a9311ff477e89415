# Two commands for a fresh machine: `make run` and `make test`.
# Both create .venv from the pinned requirements.txt when it is missing or stale.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

# A fresh checkout is a development machine: DEBUG on, SQLite, the filesystem broker.
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format migrate seed clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@if [ -z "$$EMAIL_HOST" ]; then echo "EMAIL_HOST is not set: email is written to files under var/mail/"; fi
	@echo "StretchHub: http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/)"
	$(VENV)/bin/honcho start -f Procfile

test: $(STAMP)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/ staticfiles/ test-artifacts/
