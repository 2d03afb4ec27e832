"""``kiosk.toml`` on garbage: the loader answers a config or a ConfigError naming the problem.

Inputs: random text; the good file with one line replaced by a random ``key = value``; the good
file with a random value (of any TOML type) put under one of its own keys.
"""

import re

from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import ConfigError, KioskConfig, parse_config
from tests.config.test_config import GOOD
from tests.fuzz.budget import budget

LINES = GOOD.splitlines()
ASSIGNED = [i for i, line in enumerate(LINES) if re.match(r"^\w+ = ", line)]
TOML_VALUE = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(max_size=40).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.text(max_size=40),  # not quoted: a TOML error most of the time
    st.just("[1, 2, 3]"),
    st.just("{ a = 1 }"),
    st.just("1979-05-27T07:32:00Z"),
)


def loads_or_explains(text: str) -> None:
    try:
        assert isinstance(parse_config(text, "kiosk.toml"), KioskConfig)
    except ConfigError as exc:
        message = str(exc)
        assert "kiosk.toml" in message and message.strip()


@budget(300)
@given(st.text(max_size=400))
def test_random_text_is_a_config_error(text: str) -> None:
    loads_or_explains(text)


@budget(300)
@given(st.sampled_from(ASSIGNED), TOML_VALUE)
def test_any_value_under_a_known_key_is_loaded_or_explained(index: int, value: str) -> None:
    lines = list(LINES)
    key = lines[index].split(" = ", 1)[0]
    lines[index] = f"{key} = {value}"
    loads_or_explains("\n".join(lines))


@budget(200)
@given(st.integers(0, len(LINES)), st.from_regex(r"[a-z_]{1,12}", fullmatch=True), TOML_VALUE)
def test_an_unknown_key_anywhere_is_explained(where: int, key: str, value: str) -> None:
    lines = list(LINES)
    lines.insert(where, f"{key} = {value}")
    loads_or_explains("\n".join(lines))
