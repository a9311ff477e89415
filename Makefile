# Two commands for a fresh machine: `make run` and `make test`.
# Both create .venv from the hashed development lock (requirements-dev.txt)
# when it is missing or either lock file is newer than it.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

# A fresh checkout is a development machine: DEBUG on, SQLite, the filesystem broker.
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format lock migrate seed clean messages translations system-packages

# --require-hashes: every file pip downloads must match a hash in the lock.
$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

# Pango and fonts for the printable handout (WeasyPrint): checked in a moment, installed if missing.
system-packages:
	@.ci/system-packages

migrate: $(STAMP) messages system-packages
	$(PY) manage.py migrate --noinput

# Translations (docs/i18n.md). The .mo files are built here, never committed:
# `messages` compiles each .po that is newer than its .mo. Django's
# compilemessages needs GNU gettext's msgfmt; Debian's gettext is installed
# when it is missing (as root: CI and a fresh machine).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
messages: $(MO_FILES)
$(MO_FILES): %.mo: %.po | $(STAMP)
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; } \
	  || { echo "msgfmt not found: install GNU gettext (apt-get install gettext)"; exit 1; }
	$(PY) manage.py compilemessages --ignore=.venv >/dev/null

# After changing marked strings: refresh the catalogues, then translate what is new (docs/i18n.md).
MAKEMESSAGES = $(PY) manage.py makemessages -l de --no-location --no-obsolete \
	--ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles --ignore=var
translations: $(STAMP)
	$(MAKEMESSAGES)
	$(MAKEMESSAGES) -d djangojs

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@$(PY) manage.py push_keys
	@if [ -z "$$EMAIL_HOST" ]; then echo "EMAIL_HOST is not set: email is written to files under var/mail/"; fi
	@echo "StretchHub: http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/)"
	$(VENV)/bin/honcho start -f Procfile

test: $(STAMP) messages system-packages
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
	rm -rf var/ staticfiles/ test-artifacts/ $(MO_FILES)
