PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint clean bench lock

# The versions constraints.txt pins, so every workstation and the image run the same ones.
$(STAMP): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# constraints.txt made again: `.[dev]` resolved afresh in a throw-away environment, each package
# it installed pinned (reviewflow itself left out). Run after changing pyproject's dependencies.
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet '.[dev]'
	{ sed -n '/^#/p' constraints.txt; $(LOCK_VENV)/bin/pip freeze --exclude-editable | grep -v '^reviewflow @'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)

# The catalogues, compiled whenever a translation changed.
CATALOGUES := $(wildcard i18n/locales/*/LC_MESSAGES/*.po)
COMPILED := i18n/.compiled
$(COMPILED): $(STAMP) $(CATALOGUES)
	$(VENV)/bin/python -m i18n compile
	touch $(COMPILED)

# The OpenID provider the single sign-on tests start (tests/oidc), from the npm registry; its
# tests are skipped, saying why, where node is missing.
OIDC_PROVIDER := tests/oidc/node_modules/.installed
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	if command -v npm >/dev/null; then \
		npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error && touch $(OIDC_PROVIDER); \
	fi

run: $(STAMP) $(COMPILED)
	$(VENV)/bin/reviewflow dev

# -rs: the summary says which tests were skipped and why (browser tests without chromium).
test: $(STAMP) $(COMPILED) $(OIDC_PROVIDER)
	$(VENV)/bin/python -m pytest -m "not slow" -rs

test-slow: $(STAMP) $(COMPILED) $(OIDC_PROVIDER)
	$(VENV)/bin/python -m pytest -m slow

bench: $(STAMP) $(COMPILED)
	$(VENV)/bin/python -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy domain workflows activities api web db notifications reports reviewflow config services schemas i18n worker.py

clean:
	rm -rf $(VENV) $(LOCK_VENV) .data $(COMPILED) i18n/locales/*/LC_MESSAGES/*.mo tests/oidc/node_modules

# A demo review in a few minutes, against a `make run` in another terminal.
.PHONY: demo
demo: $(STAMP) $(COMPILED)
	$(VENV)/bin/reviewflow demo

# The 2020-2021 cycle's ECE and ESCAP reviews side by side, against a `make run`.
.PHONY: demo-cycle
demo-cycle: $(STAMP) $(COMPILED)
	$(VENV)/bin/reviewflow demo --cycle
