PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint clean bench

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reviewflow dev

# -rs: the summary says which tests were skipped and why (browser tests without chromium).
test: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow" -rs

test-slow: $(STAMP)
	$(VENV)/bin/python -m pytest -m slow

bench: $(STAMP)
	$(VENV)/bin/python -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy domain workflows activities api web db notifications reports reviewflow config services schemas worker.py

clean:
	rm -rf $(VENV) .data

# A demo review in a few minutes, against a `make run` in another terminal.
.PHONY: demo
demo: $(STAMP)
	$(VENV)/bin/reviewflow demo
