# nines — `make demo` starts the whole HA stack on this machine (its own bridge and network namespaces
# for the keepalived pairs, everything else on 127.0.0.1), `make test` checks everything against it.
# Both install what is missing first (Debian packages with apt-get, a .venv with pip).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := haproxy pgbouncer patroni etcd-server etcd-client postgresql-15 postgresql-contrib \
	prometheus prometheus-alertmanager prometheus-haproxy-exporter openssl iproute2 procps \
	keepalived util-linux \
	chromium fonts-dejavu-core victoria-metrics

.PHONY: help deps apt venv demo down status test lint typecheck unit bench drills clean dashboards rules

help:
	@echo "make demo    start the HA stack (HAProxy and PgBouncer pairs behind keepalived VIPs, Patroni x3, etcd x3, Prometheus, Alertmanager, nines)"
	@echo "make down    stop everything the demo started"
	@echo "make test    lint, type-check and run every test against a real stack"
	@echo "make bench   rerun the benchmarks and rewrite bench/README.md"
	@echo "make drills  run the long failover drills on a 3-member etcd stack of their own"
	@echo "make dashboards  regenerate dashboards/json/ from the dashboards-as-code builder"

deps: apt venv

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "error: run as root (or install: $$missing)" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: deps
	$(PY) -m stack up
	$(PY) -m stack traffic

down:
	@if [ -x $(PY) ]; then $(PY) -m stack down; else echo "nothing to stop (no .venv)"; fi

status:
	$(PY) -m stack status

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(VENV)/bin/pytest -m "not stack and not drill"

# Two workers: one runs every test of the session stack in order; both share the rest (tests/conftest.py).
TEST_WORKERS ?= 2

test: deps lint typecheck
	$(VENV)/bin/pytest -m "not drill" -p no:cacheprovider --durations=25 -n $(TEST_WORKERS); rc=$$?; \
	if [ $$rc = 5 ]; then echo "error: pytest collected no test" >&2; fi; exit $$rc

bench: deps
	$(PY) -m bench

drills: deps
	$(VENV)/bin/pytest -m drill

dashboards: venv
	$(PY) dashboards/build.py

clean:
	rm -rf .stack-test .stack-lifecycle .pytest_cache .mypy_cache .ruff_cache
