# Two entry points, each doing all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fpgrade-installed

.PHONY: demo test bench system-packages labelstudio clean

# The Label Studio server for the sync tests, in its own venv: server 1.23 needs numpy >= 2.2 and
# mediapipe needs numpy < 2, so it cannot share $(VENV); fpgrade talks to it over HTTP only.
# A failed install is not fatal: the Label Studio tests then skip, saying the venv is missing.
LS_VENV ?= .venv-labelstudio
LS_STAMP := $(LS_VENV)/.labelstudio-installed

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fpgrade demo

# What the tests run for real, from Debian: chromium for the browser tests (never a downloaded
# browser), a PostgreSQL server (started by the tests themselves, in a temporary folder), and
# nginx with openssl for the documented TLS proxy (docs/deploy/nginx-fpgrade.conf).
# Installed here when missing and we are root; otherwise those tests are skipped with the reason.
system-packages:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note:$$missing missing and not root: the tests that need them will be skipped" >&2; fi; \
	fi

$(LS_STAMP): requirements-labelstudio.txt
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install --disable-pip-version-check -q -r requirements-labelstudio.txt
	touch $(LS_STAMP)

labelstudio:
	@$(MAKE) --no-print-directory $(LS_STAMP) || \
	  echo "note: Label Studio could not be installed into $(LS_VENV): its tests will be skipped" >&2

# pytest exits 5 when it collected no test: that is a failure for us, said plainly.
test: $(STAMP) system-packages labelstudio
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

clean:
	rm -rf $(VENV) $(LS_VENV) build *.egg-info
