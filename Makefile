# Two entry points for a fresh machine: `make run` (the app) and `make test` (the suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install install-test run test bench lint dist clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# The install is editable, so code changes need no reinstall: the stamps make `make run`
# and `make test` reinstall only when the package's metadata (pyproject.toml) changed.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

$(STAMP): pyproject.toml scripts/install_torch.sh | $(BIN)/python
	bash scripts/install_torch.sh $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

install: $(STAMP)

install-test: $(TEST_STAMP)

run: install
	$(BIN)/visketch app

test: install-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/preprocess.py
	$(BIN)/python benchmarks/classification.py

lint: install-test
	$(BIN)/ruff check visketch_core app tests benchmarks

# The Linux app bundle and tarball in installers/dist (docs/installers.md; macOS and Windows
# have their own scripts in installers/).
dist: install
	$(BIN)/python -m pip install -r installers/requirements.txt
	bash installers/linux/build.sh $(BIN)/python

clean:
	rm -rf $(VENV) build dist *.egg-info
