# Member Kiosk. Every target installs what it needs first (scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench setup clean image image-test

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PY) -m kiosk.devtools.demo

test: setup
	$(PY) -m ruff check kiosk hub tests benchmarks
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check kiosk hub tests benchmarks
	$(PY) -m ruff format --check kiosk hub tests benchmarks
	$(PY) -m mypy kiosk/domain kiosk/sync

# one results file for every figure, then docs/perf.md's table regenerated from it (BENCH_FULL=1: full sizes)
bench: setup
	$(PY) benchmarks/run.py --out bench-results.json
	$(PY) benchmarks/report.py bench-results.json docs/perf.md

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

image: setup
	bash image/build.sh

image-test: setup
	bash image/build.sh
	$(PY) image/boot_test.py
