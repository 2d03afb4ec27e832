# Member Kiosk. Every target installs what it needs first (scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench setup clean image image-test image-update-test lock messages fuzz

setup:
	@bash scripts/bootstrap.sh

# Refresh requirements/x86_64.txt and aarch64.txt from pyproject.toml (UPGRADE=1: newest of all).
lock:
	@bash scripts/lock.sh

demo: setup
	$(PY) -m kiosk.devtools.demo

# three workers on two cores: the suite mostly waits (brokers, Xvfb windows, Chromium, PostgreSQL);
# a test file stays on one worker so its module fixtures start once (TEST_WORKERS=0: one process)
TEST_WORKERS ?= 3
test: setup
	$(PY) -m ruff check kiosk hub tests benchmarks
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# the fuzzers of tests/fuzz with 50 times the examples `make test` gives them, fresh inputs each run
fuzz: setup
	FUZZ_SCALE=$${FUZZ_SCALE:-50} $(PY) -m pytest -q tests/fuzz --hypothesis-show-statistics

lint: setup
	$(PY) -m ruff check kiosk hub tests benchmarks
	$(PY) -m ruff format --check kiosk hub tests benchmarks
	$(PY) -m mypy kiosk/domain kiosk/sync

# after adding or removing a tr()/_()/N_() key: new keys go into both catalogs, empty, to fill in
messages: setup
	$(PY) -m kiosk.devtools.catalogs update
	$(PY) -m kiosk.devtools.catalogs check

# one results file for every figure, then docs/perf.md's table regenerated from it (BENCH_FULL=1: full sizes)
bench: setup
	$(PY) benchmarks/run.py --out bench-results.json; status=$$?; \
	$(PY) benchmarks/report.py bench-results.json docs/perf.md && exit $$status

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

image: setup
	bash image/build.sh

image-test: setup
	bash image/build.sh
	$(PY) image/boot_test.py

# image-test, then an update to a new release and the rollback of a broken one on the image (slower).
image-update-test: setup
	bash image/build.sh
	$(PY) image/boot_test.py --update
