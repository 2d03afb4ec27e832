# Member Kiosk. Every target installs what it needs first (scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench setup clean image image-test lock

setup:
	@bash scripts/bootstrap.sh

# Refresh requirements/x86_64.txt and aarch64.txt from pyproject.toml (UPGRADE=1: newest of all).
lock:
	@bash scripts/lock.sh

demo: setup
	$(PY) -m kiosk.devtools.demo

test: setup
	$(PY) -m ruff check kiosk hub tests benchmarks
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check kiosk hub tests benchmarks
	$(PY) -m ruff format --check kiosk hub tests benchmarks
	$(PY) -m mypy kiosk/domain kiosk/sync

bench: setup
	@for b in benchmarks/bench_*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

image: setup
	bash image/build.sh

image-test: setup
	bash image/build.sh
	$(PY) image/boot_test.py
