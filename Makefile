# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs
# into .venv on a fresh machine; `make test` also installs Debian's Chromium for the browser tests
# when it runs as root, and runs everything else without them when it cannot.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
CHROMIUM ?= $(or $(COCALC_MAGIC_CHROMIUM),chromium)
USER_ID ?= $(shell id -u)

.PHONY: demo test install

install: $(VENV)/.installed

# pip's own output goes to $(VENV)/install.log; one line per package it fetches shows it is working.
$(VENV)/.installed: pyproject.toml
	@echo "Installing cocalc-magic with its demo and test extras into $(VENV) (a few minutes on a fresh machine; log: $(VENV)/install.log)"
	@python3 -m venv $(VENV)
	@$(VENV)/bin/pip install -q -U pip > $(VENV)/install.log 2>&1
	@$(VENV)/bin/pip install --progress-bar off -e '.[test]' 2>&1 | tee -a $(VENV)/install.log \
	  | awk '/^Collecting /{n++; printf "  %3d %s\n", n, $$2; fflush()}'; \
	  test $${PIPESTATUS[0]} -eq 0 || { echo "pip failed: the end of $(VENV)/install.log:"; tail -20 $(VENV)/install.log; exit 1; }
	@touch $@
	@echo "Installed into $(VENV)."

# CI (CI=true) must run the browser tests: it installs Chromium as root, or fails.
test: install
	@if command -v $(CHROMIUM) >/dev/null 2>&1; then \
	  $(PY) -m pytest $(PYTEST_ARGS); \
	elif [ "$(USER_ID)" = 0 ]; then \
	  echo "Installing Debian's Chromium for the browser tests ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium && $(PY) -m pytest $(PYTEST_ARGS); \
	elif [ -n "$${CI:-}" ]; then \
	  echo "CI: Chromium is missing and installing it needs root, so the browser tests cannot run"; exit 1; \
	else \
	  echo "No Chromium here: running everything but the browser tests (sudo apt-get install chromium, then make test, adds them)"; \
	  $(PY) -m pytest --ignore=tests/browser $(PYTEST_ARGS); \
	fi

demo: install
	$(VENV)/bin/cocalc-magic demo
