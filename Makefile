# Member Kiosk. Every target installs what it needs first (scripts/bootstrap.sh).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench setup clean image image-test image-update-test

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PY) -m kiosk.demo

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

# image-test, then an update to a new release and the rollback of a broken one on the image (slower).
image-update-test: setup
	bash image/build.sh
	$(PY) image/boot_test.py --update
