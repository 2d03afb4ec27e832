"""The update offer's schema: what the terminal accepts from pos/{d}/down/update, and what it refuses."""

import json

import pytest

from kiosk.sync.schema import SchemaError
from kiosk.sync.update_offer import parse_offer

SHA = "ab" * 32


def offer(**changes: object) -> bytes:
    """An offer of 0.2.0 with one file, changed by ``changes`` (file fields under ``file``)."""
    item = {
        "name": "member_kiosk-0.2.0-py3-none-any.whl",
        "sha256": SHA,
        "size": 1000,
        "url": "http://hub.shop.lan:8080/releases/0.2.0/files/member_kiosk-0.2.0-py3-none-any.whl",
    }
    item.update(changes.pop("file", {}))  # type: ignore[call-overload]
    body = {"v": 1, "version": "0.2.0", "issued_at": "2026-11-24T12:00:00+00:00", "files": [item], **changes}
    return json.dumps(body).encode()


def test_a_good_offer_is_read_back_field_for_field() -> None:
    parsed = parse_offer(offer())
    assert (parsed.version, parsed.files[0].name, parsed.files[0].sha256, parsed.files[0].size) == (
        "0.2.0",
        "member_kiosk-0.2.0-py3-none-any.whl",
        SHA,
        1000,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"file": {"name": "../../etc/cron.d/x.whl"}}, "not a plain wheel name: '../../etc/cron.d/x.whl'"),
        ({"file": {"sha256": "AB" * 32}}, "malformed sha256"),
        ({"file": {"url": "file:///etc/shadow"}}, "URL that is not http(s): 'file:///etc/shadow'"),
        ({"version": "0.3.0"}, "update offer for 0.3.0 has no member_kiosk-0.3.0 wheel"),
        ({"v": 2}, "unknown update offer schema version 2"),
        ({"extra": 1}, "does not follow the schema"),
        ({"files": []}, "does not follow the schema"),
    ],
)
def test_a_bad_offer_is_refused_with_the_reason(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_offer(offer(**changes))
    assert message in str(caught.value)


def test_an_offer_that_is_not_json_is_refused() -> None:
    with pytest.raises(SchemaError, match="update offer is not JSON"):
        parse_offer(b"\xff not json")
