# Kiln: `make run` to use it, `make test` to test it. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)
export DEBUG ?= 1

.PHONY: run setup test lint format worker web screenshot clean

$(STAMP): requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	bash scripts/run-dev.sh

# What `make run` does before it serves: .env, migrations, demo data.
setup: $(STAMP)
	bash scripts/run-dev.sh --setup-only

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python manage.py makemigrations --check --dry-run
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

web: $(STAMP)
	$(VENV)/bin/python manage.py runserver 127.0.0.1:8000

worker: $(STAMP)
	$(VENV)/bin/celery -A lims worker --loglevel=INFO

screenshot: $(STAMP)
	$(VENV)/bin/python scripts/screenshots.py

clean:
	rm -rf $(VENV) var/static
