"""How long the fuzzers run: bounded inside ``make test``, longer under ``make fuzz``.

``FUZZ_SCALE`` (``make fuzz`` sets 50) multiplies every fuzzer's example count; the counts
each one reached are recorded in ``docs/security.md`` ("Fuzzing").
"""

import os

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))


def budget(examples: int) -> settings:
    """Hypothesis settings for ``examples`` tries (times ``FUZZ_SCALE``), no per-example deadline."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=SCALE == 1,  # inside `make test` the same inputs every run: a failure reproduces
    )
