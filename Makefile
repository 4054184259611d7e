# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs
# into .venv (and Debian's Chromium for the browser tests) on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test install browser

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium' (Debian) and retry"; exit 1; fi; }

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/cocalc-magic demo
