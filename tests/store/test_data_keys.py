"""A member's data key: sealed under the business key for one member only; fields under it open only
with it, whatever business key is held."""

import base64

import pytest

from kiosk.store.pii import PiiError, PiiKey, data_key_name, key_id_of

BUSINESS = PiiKey(bytes(range(32)))
OTHER_BUSINESS = PiiKey(bytes(range(1, 33)))
DATA_KEY = bytes(range(100, 132))


def test_a_wrapped_data_key_opens_only_for_its_member_under_its_business_key() -> None:
    wrapped = BUSINESS.wrap_data_key(DATA_KEY, "m-1")
    assert wrapped.startswith(f"{BUSINESS.key_id}:")
    assert BUSINESS.unwrap_data_key(wrapped, "m-1") == DATA_KEY
    with pytest.raises(PiiError, match="m-2: the data key does not open"):
        BUSINESS.unwrap_data_key(wrapped, "m-2")  # moved to another member
    with pytest.raises(PiiError, match=f"wrapped under key {BUSINESS.key_id}, not held here"):
        OTHER_BUSINESS.unwrap_data_key(wrapped, "m-1")
    raw = bytearray(base64.b64decode(wrapped.split(":")[1]))
    raw[-1] ^= 1
    flipped = f"{BUSINESS.key_id}:{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(PiiError, match="does not open"):
        BUSINESS.unwrap_data_key(flipped, "m-1")
    with pytest.raises(PiiError, match="does not open"):
        BUSINESS.unwrap_data_key(f"{BUSINESS.key_id}:not base64!", "m-1")


def test_fields_under_a_data_key_open_with_that_members_key_only() -> None:
    token = BUSINESS.encrypt_for(DATA_KEY, "+8613812341234", "m-1:phone")
    assert token.startswith(f"{data_key_name(DATA_KEY)}:") and data_key_name(DATA_KEY) == "dk-" + key_id_of(
        DATA_KEY
    )
    held = {"m-1": BUSINESS.wrap_data_key(DATA_KEY, "m-1")}
    assert BUSINESS.with_data_keys(held.get).decrypt(token, "m-1:phone") == "+8613812341234"
    with pytest.raises(PiiError, match="data key is not held here"):
        BUSINESS.decrypt(token, "m-1:phone")  # the business key alone
    with pytest.raises(PiiError, match="data key is not held here"):
        BUSINESS.with_data_keys({}.get).decrypt(token, "m-1:phone")  # erased
    other = {"m-1": BUSINESS.wrap_data_key(bytes(32), "m-1")}
    with pytest.raises(PiiError, match="under another data key"):
        BUSINESS.with_data_keys(other.get).decrypt(token, "m-1:phone")
    with pytest.raises(PiiError, match="wrong key or altered data"):
        BUSINESS.with_data_keys(held.get).decrypt(token, "m-1:name")  # moved to another field
    # re-encrypting for a rotation leaves it alone; a rotated ring re-wraps the key instead
    assert BUSINESS.reencrypt(token, "m-1:phone") == token
    rotated = PiiKey(bytes(range(2, 34)), (bytes(range(32)),))
    rewrapped = rotated.rewrap_data_key(held["m-1"], "m-1")
    assert (
        rewrapped.startswith(f"{rotated.key_id}:") and rotated.unwrap_data_key(rewrapped, "m-1") == DATA_KEY
    )
    assert rotated.rewrap_data_key(rewrapped, "m-1") == rewrapped


def test_encrypt_member_uses_the_members_data_key_when_they_have_one() -> None:
    held = {"m-1": BUSINESS.wrap_data_key(DATA_KEY, "m-1")}
    ring = BUSINESS.with_data_keys(held.get)
    assert ring.encrypt_member("z@example.cn", "m-1:email").startswith(data_key_name(DATA_KEY) + ":")
    assert ring.encrypt_member("l@example.cn", "m-2:email").startswith(f"{BUSINESS.key_id}:")
