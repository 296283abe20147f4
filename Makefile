# Every target sets up what it needs: a fresh clone needs only python3 (3.11+) and make.
VENV   := .venv
PYTHON := $(VENV)/bin/python
READY  := $(VENV)/.ready

STACK  ?= example

.PHONY: setup test lint plan

$(READY): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $(READY)

## setup: create .venv with the program's and the tests' dependencies
setup: $(READY)

## test: set up, then run the whole test suite (no cloud, no Pulumi CLI needed)
test: setup
	$(PYTHON) -m pytest

## lint: ruff (lint and format) and mypy --strict
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## plan: set up, then show what `pulumi up` would do for STACK (default: example), offline, into build/STACK
plan: setup
	$(PYTHON) -m components.plan --stack $(STACK) --out build/$(STACK)
