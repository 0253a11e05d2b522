# Two commands set everything up on a fresh machine:
#   make run    installs, migrates, loads regions and demo data, starts web + worker + beat
#   make test   installs and runs lint, types and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-dev browser lint types pytest bench bench-scan bench-lifecycle bench-dashboards bench-scanpage bench-import messages clean

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(VENV)/.runtime node_modules/.package-lock.json

install-dev: $(VENV)/.dev node_modules/.package-lock.json

# Browser tests drive Debian's Chromium; it is installed from Debian's packages, never downloaded
# by a test tool. The CJK fonts make screenshots show Chinese text instead of empty boxes;
# gettext's xgettext lets the i18n test check that the catalogue covers every string; ffmpeg
# turns a pass's QR into the video the scan page's fake camera plays.
browser:
	@{ command -v chromium >/dev/null && command -v xgettext >/dev/null && \
	   command -v ffmpeg >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  $$SUDO apt-get install -y -qq chromium fonts-noto-cjk gettext ffmpeg; }

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_regions
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_demo_scans
	@echo "Starting web at http://127.0.0.1:$(PORT), Celery worker and beat (Ctrl-C stops all)."
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A passcode_portal worker --loglevel=INFO --concurrency=2 & \
	$(BIN)/celery -A passcode_portal beat --loglevel=INFO & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install-dev
	$(BIN)/mypy

pytest: install-dev browser
	$(BIN)/pytest

test: lint types pytest

bench: install-dev
	$(BIN)/python benchmarks/run.py

bench-scan: install-dev
	$(BIN)/python benchmarks/scan.py

bench-lifecycle: install-dev
	$(BIN)/python benchmarks/lifecycle.py

bench-scanpage: install-dev browser
	$(BIN)/python benchmarks/scanpage.py

bench-dashboards: install-dev
	$(BIN)/python benchmarks/dashboards.py

bench-import: install-dev
	$(BIN)/python benchmarks/trip_import.py

messages: install-dev
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=node_modules
	$(BIN)/python manage.py makemessages -d djangojs -l zh_Hans -l en --ignore=.venv --ignore=node_modules --ignore=staticfiles
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) node_modules var staticfiles
