"""Business keys on the terminal: ciphertexts that name their key, a ring of keys during a rotation,
the new key received sealed over the member downlink and opened with the provisioned one."""

import base64
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.members.business_keys import downlink_keys
from kiosk.store import business_keys, members
from kiosk.store.business_keys import WrappedKeyRow
from kiosk.store.members import hub_copy
from kiosk.store.pii import NONCE_BYTES, PiiError, PiiKey, key_id_of
from kiosk.store.sales import Terminal

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OLD, NEW, OTHER = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))
PHONE = "+8613812341234"
TERMINAL = Terminal(store="S01", device="K01", boot="boot-1")
CONSENT = members.Consent(version="privacy-2026-01", where="S01/K01")


def test_a_ciphertext_names_its_key_and_one_from_before_key_ids_still_opens() -> None:
    key = PiiKey(OLD)
    sealed = key.encrypt("张三", "m-1:name")
    assert sealed.split(":")[0] == key.key_id == key_id_of(OLD) and len(key.key_id) == 12
    assert key.decrypt(sealed, "m-1:name") == "张三"
    legacy = sealed.split(":")[1]  # the format before key ids: base64 of nonce + sealed
    assert key.decrypt(legacy, "m-1:name") == "张三"
    with pytest.raises(PiiError, match="m-2:name"):
        key.decrypt(sealed, "m-2:name")


def test_a_ring_reads_both_keys_writes_with_the_current_and_finds_a_phone_under_either() -> None:
    old, ring = PiiKey(OLD), PiiKey(NEW, (OLD,))
    assert ring.key_ids == (key_id_of(NEW), key_id_of(OLD))
    under_old = old.encrypt(PHONE, "m-1:phone")
    assert ring.decrypt_with_id(under_old, "m-1:phone") == (PHONE, old.key_id)
    moved = ring.reencrypt(under_old, "m-1:phone")
    assert moved.startswith(f"{ring.key_id}:") and ring.decrypt(moved, "m-1:phone") == PHONE
    assert ring.reencrypt(moved, "m-1:phone") == moved  # already under the current key
    assert ring.blind_indexes(PHONE) == [PiiKey(NEW).blind_index(PHONE), old.blind_index(PHONE)]
    assert ring.blind_index(PHONE) != old.blind_index(PHONE)
    with pytest.raises(PiiError, match="is not held here"):
        old.decrypt(moved, "m-1:phone")  # a terminal still on the old key cannot read the new


def test_a_wrapped_key_opens_only_under_its_wrapping_key_and_id() -> None:
    ring = PiiKey(NEW, (OLD,))
    old_id = key_id_of(OLD)
    wrapped = ring.wrap_current(by=old_id)
    assert PiiKey(OLD).unwrap(wrapped, ring.key_id, old_id) == NEW
    with pytest.raises(PiiError, match="does not open"):
        PiiKey(OLD).unwrap(wrapped, key_id_of(OTHER), old_id)  # claims another key's id
    with pytest.raises(PiiError, match="not held here"):
        PiiKey(OTHER).unwrap(wrapped, ring.key_id, old_id)
    raw = bytearray(base64.b64decode(wrapped))
    raw[NONCE_BYTES] ^= 1
    with pytest.raises(PiiError, match="does not open"):
        PiiKey(OLD).unwrap(base64.b64encode(bytes(raw)).decode(), ring.key_id, old_id)


def _member_state(key: PiiKey, member_id: str, version: int) -> dict[str, object]:
    profile = {
        "id": member_id,
        "phone_index": key.blind_index(PHONE),
        "phone_enc": key.encrypt(PHONE, f"{member_id}:phone"),
        "name_enc": key.encrypt("李四", f"{member_id}:name"),
        "created_at": "2026-12-01T10:00:00+08:00",
    }
    return {"id": member_id, "version": version, "erased": False, "member": profile, "cards": [],
            "balances": {}, "through_seq": 0}  # fmt: skip


def test_a_terminal_on_the_old_key_takes_the_new_one_with_the_members_under_it(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    hub_ring = PiiKey(NEW, (OLD,))
    hub_copy.apply_snapshot_page([], None)
    hub_copy.finish_snapshot(1, NOW)
    assert business_keys.key_ring(OLD).key_ids == (key_id_of(OLD),)
    # the member re-encrypted at the hub, and the keys in the same delta
    delta = [_member_state(hub_ring, "m-1", 2)]
    assert hub_copy.apply_delta(1, 2, delta, downlink_keys(hub_ring)) == "applied"
    ring = business_keys.key_ring(OLD)
    assert ring.key_ids == (key_id_of(NEW), key_id_of(OLD))
    found = members.find_by_phone(ring, "138 1234 1234")
    assert found is not None and members.profile(ring, found)["name"] == "李四"
    assert members.find_by_phone(PiiKey(OLD), PHONE) is None  # what the app had before it refreshed
    # a member registered here now gets a data key wrapped under the new key
    made = members.register_member(ring, TERMINAL, NOW, "13900001111", CONSENT, member_id="m-2")
    assert made.member.data_key.startswith(f"{key_id_of(NEW)}:")
    assert made.member.phone_enc.startswith("dk-")
    assert business_keys.report_key(ring, NOW) is True
    assert business_keys.reported_key() == key_id_of(NEW)
    assert business_keys.report_key(ring, NOW) is False
    # the database holds the keys sealed only: no row is a key in clear
    stored = [r.wrapped for r in WrappedKeyRow.select()]
    assert len(stored) == 2 and all(base64.b64encode(k).decode() not in stored for k in (OLD, NEW))


def test_a_terminal_provisioned_with_the_new_key_reads_members_not_yet_moved(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    hub_ring = PiiKey(NEW, (OLD,))
    page = [_member_state(PiiKey(OLD), "m-1", 1)]  # not yet re-encrypted at the hub
    hub_copy.apply_snapshot_page(page, downlink_keys(hub_ring))
    ring = business_keys.key_ring(NEW)
    assert ring.key_ids == (key_id_of(NEW), key_id_of(OLD))
    found = members.find_by_phone(ring, PHONE)
    assert found is not None and members.profile(ring, found)["name"] == "李四"


def test_keys_of_another_business_open_nothing(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    stranger = PiiKey(OTHER, (bytes(range(3, 35)),))
    hub_copy.apply_snapshot_page([], downlink_keys(stranger))
    assert WrappedKeyRow.select().count() == 2
    assert business_keys.key_ring(OLD).key_ids == (key_id_of(OLD),)


def test_a_malformed_keys_field_is_refused() -> None:
    assert business_keys.check_keys(None) is None
    for bad in ("k", {"wrapped": []}, {"current": "a", "wrapped": [{"id": "a", "by": 1, "key": "x"}]}):
        with pytest.raises(ValueError):
            business_keys.check_keys(bad)


def test_the_downlink_carries_no_keys_outside_a_rotation() -> None:
    assert downlink_keys(PiiKey(OLD)) is None and downlink_keys(None) is None
    keys = downlink_keys(PiiKey(NEW, (OLD,)))
    assert keys is not None and keys["current"] == key_id_of(NEW)
    assert [(w["id"], w["by"]) for w in keys["wrapped"]] == [
        (key_id_of(NEW), key_id_of(OLD)),
        (key_id_of(OLD), key_id_of(NEW)),
    ]
    # sealed with fresh nonces: two calls differ
    assert downlink_keys(PiiKey(NEW, (OLD,)))["wrapped"][0]["key"] != keys["wrapped"][0]["key"]  # type: ignore[index]
