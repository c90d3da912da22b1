# The two set-up commands of the README: `make demo` (the main job) and `make test`.
# Both create .venv with the pinned tool chain first; that step is skipped when
# requirements/dev.txt has not changed since the last install.
# `make test` also runs the Blender and end-to-end tests on the other supported Blender
# versions (`make test-matrix`), each in its own venv pinned by requirements/bpy-<version>.txt.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# A venv's stamp is named after its requirements file's checksum, so editing the file reinstalls.
stamp = $(1)/.installed-$(shell cksum $(2) | cut -d' ' -f1)

# venv_rule(venv, requirements): create the venv and install the pinned requirements into it.
define venv_rule
$(call stamp,$(1),$(2)): $(2)
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2)
	rm -f $(1)/.installed-*
	touch $$@
endef

# Blender versions tested besides the default .venv (4.5 LTS): the oldest supported and the newest.
MATRIX_VENVS := .venv-bpy42 .venv-bpy50
.venv-bpy42_REQUIREMENTS := requirements/bpy-4.2.txt
.venv-bpy50_REQUIREMENTS := requirements/bpy-5.0.txt
MATRIX_TESTS = $(wildcard tests/blender tests/e2e tests/processes)
# pytest processes (pytest-xdist): most tests wait on the sandbox's task clock or on Blender
# subprocesses, so three workers on two cores roughly halve the run (1,528 tests: 7 min → 3.5 min).
PYTEST_WORKERS ?= 3

STAMP := $(call stamp,$(VENV),requirements/dev.txt)
MATRIX_STAMPS := $(foreach venv,$(MATRIX_VENVS),$(call stamp,$(venv),$($(venv)_REQUIREMENTS)))

$(eval $(call venv_rule,$(VENV),requirements/dev.txt))
$(foreach venv,$(MATRIX_VENVS),$(eval $(call venv_rule,$(venv),$($(venv)_REQUIREMENTS))))

.PHONY: setup setup-matrix demo test test-matrix test-package lint typecheck extension

setup: $(STAMP)

setup-matrix: $(MATRIX_STAMPS)

demo: setup
	$(PY) scripts/demo.py --out-dir out

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

# dist/meshy_blender-<version>.zip, validated by Blender's extension tool, and dist/index.json.
extension: setup
	$(PY) scripts/build_extension.py --out-dir dist

# The pip package alone: build the wheel, install it into new venvs (without bpy, and with the
# [bpy] extra) and run the meshy-blender command. `make test` runs it within its pytest run.
test-package: setup
	$(VENV)/bin/pytest tests/package

# Every matrix venv runs, then the target fails if any of them failed.
test-matrix: setup-matrix
	@failed=""; for venv in $(MATRIX_VENVS); do \
		echo "== Blender tests on $$($$venv/bin/python -c 'import importlib.metadata as m; print("bpy", m.version("bpy"))')"; \
		$$venv/bin/python -m pytest -n $(PYTEST_WORKERS) $(MATRIX_TESTS) || failed="$$failed $$venv"; \
	done; \
	if [ -n "$$failed" ]; then echo "Blender test matrix failed in:$$failed"; exit 1; fi

test: lint typecheck
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS)
	$(MAKE) --no-print-directory test-matrix
