# Doppel — one command for the demo, one for the tests.
#   make demo      install, start the embedded services, build and train the demo, serve :8000
#   make test      install with the test extras and run the whole suite
#   make services | worker | web | stop     the parts one by one

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
export DOPPEL_VAR ?= $(CURDIR)/var
# Local runs are plain HTTP; production leaves this unset (HTTPS hardening on).
export DOPPEL_HTTPS ?= 0
export PYTHONUNBUFFERED := 1
# Two worker processes share two cores: one torch thread each (0 = torch's default).
export DOPPEL_TORCH_THREADS ?= 1

WORKER_PID := $(DOPPEL_VAR)/worker.pid
WEB_PID    := $(DOPPEL_VAR)/web.pid

.PHONY: help install install-test services migrate admin worker worker-bg web demo demo-data demo-train stop test clean

help:
	@sed -n '2,5p' Makefile

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml client/pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test,research]' -e ./client
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

services: install
	$(PY) -m portal.embedded start

migrate: services
	$(PY) manage.py migrate --noinput

admin: migrate
	$(PY) manage.py create_admin

# Foreground worker for both queues (Ctrl-C to stop). Production runs separate CPU and GPU workers.
worker: migrate
	$(VENV)/bin/celery -A portal worker -Q default,gpu --concurrency 2 -l info

worker-bg: migrate
	@if [ -f $(WORKER_PID) ] && kill -0 $$(cat $(WORKER_PID)) 2>/dev/null; then \
		echo "worker already running (pid $$(cat $(WORKER_PID)))"; \
	else \
		$(VENV)/bin/celery -A portal worker -Q default,gpu --concurrency 2 -l info \
			--detach --pidfile=$(WORKER_PID) --logfile=$(DOPPEL_VAR)/worker.log && \
		echo "worker started in the background; log: $(DOPPEL_VAR)/worker.log"; \
	fi

web: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	@echo "Doppel portal on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	$(VENV)/bin/gunicorn -c python:portal.gunicorn portal.wsgi -b $(HOST):$(PORT) --pid $(WEB_PID) --access-logfile - --graceful-timeout 5

demo-data: migrate
	$(PY) manage.py demo_build

demo-train: worker-bg demo-data
	$(PY) manage.py demo_train

demo: admin worker-bg demo-data demo-train
	@$(PY) manage.py create_admin
	@echo "Doppel demo ready: http://$(HOST):$(PORT)/  (twins, latent map and BHB candidates are linked in the top bar)"
	@$(MAKE) --no-print-directory web

stop:
	@if [ -f $(WEB_PID) ] && kill -0 $$(cat $(WEB_PID)) 2>/dev/null; then \
		kill -TERM $$(cat $(WEB_PID)) && echo "web stopped"; else echo "web was not running"; fi
	@if [ -f $(WORKER_PID) ] && kill -0 $$(cat $(WORKER_PID)) 2>/dev/null; then \
		kill -TERM $$(cat $(WORKER_PID)); \
		for i in $$(seq 1 100); do kill -0 $$(cat $(WORKER_PID) 2>/dev/null) 2>/dev/null || break; sleep 0.1; done; \
		echo "worker stopped"; else echo "worker was not running"; fi
	@rm -f $(WORKER_PID) $(WEB_PID)
	@if [ -x $(PY) ]; then $(PY) -m portal.embedded stop; fi

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

clean: stop
	rm -rf var .pytest_cache
