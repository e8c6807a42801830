# causalrec: two commands set everything up on a fresh machine.
#   make quickstart   create .venv, install, run the main job on the embedded default
#   make test         create .venv, install, run the whole test suite (notebooks included)
# TORCH_SPEC picks the PyTorch build, e.g. for CUDA:
#   make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
SPHINXOPTS ?=
PIP := $(VENV)/bin/python -m pip
TORCH_STAMP := $(VENV)/.torch-$(shell printf '%s' '$(TORCH_SPEC)' | cksum | cut -d' ' -f1)
INSTALL_STAMP := $(VENV)/.causalrec-installed
DOCS_STAMP := $(VENV)/.causalrec-docs-installed

.PHONY: install quickstart test lab lint bench docs clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(TORCH_STAMP): | $(VENV)/bin/python
	$(PIP) install $(TORCH_SPEC)
	rm -f $(VENV)/.torch-* && touch $@

$(INSTALL_STAMP): pyproject.toml Makefile $(TORCH_STAMP)
	$(PIP) install -e ".[notebooks,dev,sweeps,ann,docs]"
	touch $@

install: $(INSTALL_STAMP)

quickstart: $(INSTALL_STAMP)
	$(VENV)/bin/causalrec-train experiment=quickstart

test: $(INSTALL_STAMP)
	$(VENV)/bin/python -m pytest -n 2 $(PYTEST_ARGS)

# jupyter refuses to run as root (containers) unless told --allow-root
lab: $(INSTALL_STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(INSTALL_STAMP)
	$(VENV)/bin/ruff check causalrec tests scripts notebooks

bench: $(INSTALL_STAMP)
	$(VENV)/bin/python scripts/bench/run_all.py

# the documentation site into docs/_build/html, offline (API, config and tutorial pages and
# the intersphinx inventories are generated at build time; see docs/conf.py), warnings as errors,
# nitpicky (-n: every cross-reference, signatures' types included, must resolve); SPHINXOPTS adds
$(DOCS_STAMP): pyproject.toml Makefile $(TORCH_STAMP)
	$(PIP) install -e ".[docs]"
	touch $@

docs: $(DOCS_STAMP)
	$(VENV)/bin/python -m sphinx -b html -W -n --keep-going $(SPHINXOPTS) docs docs/_build/html

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
