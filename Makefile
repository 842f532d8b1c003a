# Two commands for a newcomer: `make demo` (the main job, offline) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: demo test install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch is pinned and installed first, so no resolver ever picks a (multi-GB) CUDA build by itself.
install: $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test,baselines]"

demo: install
	$(BIN)/dng demo --out runs/demo

test: install
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info
