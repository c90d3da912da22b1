# The two set-up commands of the README: `make demo` (the main job) and `make test`.
# Both create .venv with the pinned tool chain first; that step is skipped when
# requirements/dev.txt has not changed since the last install.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements/dev.txt | cut -d' ' -f1)

.PHONY: setup demo test lint typecheck unit

setup: $(STAMP)

$(STAMP): requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(PY) scripts/demo.py --out-dir out

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest
