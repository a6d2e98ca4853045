# The two doors of a checkout: `make demo` runs the main job (the offline CPU demo), `make test` the lint and the
# test suite. Each sets itself up first on a fresh machine: a virtual environment (.venv, or the active one) with
# the CPU wheel of torch installed before st-jce, since a bare `torch` requirement would pull a multi-GB CUDA build.
SHELL := /bin/bash
VENV ?= .venv
TORCH ?= torch==2.13.0
ENV_DIR := $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),$(VENV))
PY := $(ENV_DIR)/bin/python
READY := $(ENV_DIR)/.st-jce-dev

.PHONY: demo test lint setup
demo: $(READY)
	$(PY) train_st.py configs/cpu-demo.yaml

test: lint
	$(PY) -m pytest -q

lint: $(READY)
	$(PY) -m ruff check .

setup: $(READY)

$(READY): setup.cfg pyproject.toml
	[ -x $(PY) ] || python3 -m venv $(ENV_DIR)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@
