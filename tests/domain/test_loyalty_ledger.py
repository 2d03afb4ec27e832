"""The ledger: balances are sums, the hash chain detects tampering, refunds and merges."""

import dataclasses
import hashlib
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.loyalty import (
    BONUS,
    POINTS,
    PRINCIPAL,
    Kind,
    LedgerEntry,
    balance,
    balances,
    chain,
    merge_entries,
    negative_balances,
    refund_reversals,
    verify_chain,
)
from kiosk.domain.loyalty.ledger import GENESIS, chain_with_dicts
from tests.domain.loyalty_support import stamp


def entry(eid: str, amount: int, kind: Kind = Kind.EARN, member: str = "m1", **kw: str) -> LedgerEntry:
    at = kw.pop("at", "2026-03-01T10:00:00+08:00")
    return LedgerEntry(
        id=eid,
        member_id=member,
        account=kw.pop("account", POINTS),
        kind=kind,
        amount=amount,
        at=at,
        device="d1",
        **kw,
    )


def test_balance_is_the_sum_per_member_and_account() -> None:
    entries = [
        entry("a", 100),
        entry("b", -30, Kind.REDEEM),
        entry("c", 5000, Kind.TOP_UP, account=PRINCIPAL),
        entry("d", 7, member="m2"),
    ]
    assert balances(entries) == {("m1", POINTS): 70, ("m1", PRINCIPAL): 5000, ("m2", POINTS): 7}
    assert balance(entries, "m1") == 70
    assert balance(entries, "m9") == 0


def test_negative_balance_is_flagged_not_hidden() -> None:
    entries = [entry("a", 100), entry("b", -100, Kind.REDEEM), entry("c", -20, Kind.REFUND_REVERSAL)]
    assert negative_balances(entries) == {("m1", POINTS): -20}


def chained() -> list[LedgerEntry]:
    return chain([entry("a", 100), entry("b", -40, Kind.REDEEM), entry("c", 12)], 0, GENESIS)


def test_chain_numbers_and_links_entries() -> None:
    linked = chained()
    assert [e.seq for e in linked] == [1, 2, 3]
    assert linked[0].prev == GENESIS
    assert linked[1].prev == linked[0].hash
    assert verify_chain(linked) == []


def test_chain_continues_from_the_device_head() -> None:
    first = chained()
    more = chain([entry("d", 1)], first[-1].seq, first[-1].hash)
    assert verify_chain(first + more) == []
    assert more[0].seq == 4


def test_edit_is_detected() -> None:
    linked = chained()
    linked[1] = dataclasses.replace(linked[1], amount=-4)
    assert verify_chain(linked) == ["b: hash does not match the content (edited?)"]


def test_gap_is_detected() -> None:
    linked = chained()
    assert verify_chain([linked[0], linked[2]]) == [
        "c: seq 3 follows 1",
        "c: prev does not link to the previous hash",
    ]


def test_replay_is_detected() -> None:
    linked = chained()
    assert verify_chain([*linked, linked[2]]) == [
        "c: seq 3 follows 3",
        "c: prev does not link to the previous hash",
    ]


def test_chain_hash_is_sha256_of_prev_and_the_sorted_content() -> None:
    first = chained()[0]
    content = {
        "id": "a", "member_id": "m1", "account": "points", "kind": "earn", "amount": 100,
        "at": "2026-03-01T10:00:00+08:00", "device": "d1", "sale_id": "", "action": "", "rule": "",
        "reverses": "", "earned_on": "", "seq": 1, "prev": GENESIS,
    }  # fmt: skip
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256((GENESIS + body).encode()).hexdigest()
    assert first.to_dict() == {**content, "hash": first.hash}


def test_chain_with_dicts_gives_each_entry_its_to_dict() -> None:
    pairs = chain_with_dicts([entry("a", 100), entry("b", -40, Kind.REDEEM)], 7, "f" * 64)
    assert [e for e, _ in pairs] == chain([entry("a", 100), entry("b", -40, Kind.REDEEM)], 7, "f" * 64)
    assert [d for _, d in pairs] == [e.to_dict() for e, _ in pairs]
    assert [d["seq"] for _, d in pairs] == [8, 9]


def test_entry_round_trips_through_dict() -> None:
    original = chained()[1]
    assert LedgerEntry.from_dict(original.to_dict()) == original


def sale_entries() -> list[LedgerEntry]:
    return [
        entry("r", -2000, Kind.REDEEM, sale_id="s1"),
        entry("p", -3000, Kind.SPEND, account=PRINCIPAL, sale_id="s1"),
        entry("e", 80, Kind.EARN, sale_id="s1"),
    ]


def amounts(entries: list[LedgerEntry]) -> list[tuple[str, int]]:
    return [(e.reverses, e.amount) for e in entries]


def test_partial_refunds_add_up_to_the_full_reversal() -> None:
    sale = sale_entries()
    first = refund_reversals(sale, 10000, 0, 2500, stamp(), "refund:1")
    assert amounts(first) == [("r", 500), ("p", 750), ("e", -20)]
    second = refund_reversals(sale, 10000, 2500, 3333, stamp(), "refund:2")
    assert amounts(second) == [("r", 666), ("p", 999), ("e", -27)]
    third = refund_reversals(sale, 10000, 5833, 4167, stamp(), "refund:3")
    assert amounts(third) == [("r", 834), ("p", 1251), ("e", -33)]
    assert balances(sale + first + second + third) == {("m1", POINTS): 0, ("m1", PRINCIPAL): 0}
    assert {e.kind for e in first} == {Kind.REFUND_REVERSAL}


def test_refund_larger_than_what_is_left_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        refund_reversals(sale_entries(), 10000, 5000, 5001, stamp(), "refund:x")


def test_refund_of_spent_earn_drives_balance_negative() -> None:
    history = [*sale_entries()[2:], entry("x", -80, Kind.REDEEM, sale_id="s2")]
    reversal = refund_reversals(history[:1], 10000, 0, 10000, stamp(), "refund:1")
    assert negative_balances(history + reversal) == {("m1", POINTS): -80}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(min_value=-50_000, max_value=50_000), min_size=1, max_size=5),
    st.integers(min_value=1, max_value=100_000),
    st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5),
)
def test_refunding_a_whole_sale_in_parts_restores_every_balance(
    moves: list[int], total: int, weights: list[int]
) -> None:
    kinds = itertools.cycle([Kind.EARN, Kind.REDEEM, Kind.SPEND])
    sale = [entry(f"x{i}", amount, next(kinds), sale_id="s") for i, amount in enumerate(moves)]
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    done, reversals = 0, []
    for part in filter(None, parts):
        step = refund_reversals(sale, total, done, part, stamp(prefix=f"r{done}-"), "refund")
        original = {e.id: e.amount for e in sale}
        assert all(rev.amount * original[rev.reverses] < 0 for rev in step)
        reversals += step
        done += part
    assert all(v == 0 for v in balances(sale + reversals).values())


def test_merge_moves_every_balance_and_keeps_lot_dates() -> None:
    history = [
        entry("a", 100, member="dup", at="2025-01-05T09:00:00+08:00"),
        entry("b", 200, member="dup", at="2025-06-01T09:00:00+08:00"),
        entry("c", 5000, Kind.TOP_UP, member="dup", account=PRINCIPAL),
        entry("d", 1000, Kind.TOP_UP, member="dup", account=BONUS),
        entry("e", 50, member="keep"),
    ]
    lots = [("2025-01-05", 100), ("2025-06-01", 200)]
    moved = merge_entries("keep", "dup", history, stamp(), lots)
    after = balances(history + moved)
    assert after == {
        ("dup", POINTS): 0,
        ("dup", PRINCIPAL): 0,
        ("dup", BONUS): 0,
        ("keep", POINTS): 350,
        ("keep", PRINCIPAL): 5000,
        ("keep", BONUS): 1000,
    }
    credits = [(e.account, e.earned_on, e.amount) for e in moved if e.member_id == "keep"]
    assert credits == [
        (POINTS, "2025-01-05", 100),
        (POINTS, "2025-06-01", 200),
        (BONUS, "", 1000),
        (PRINCIPAL, "", 5000),
    ]
    assert {e.action for e in moved} == {"merge:dup->keep"}


def test_merge_carries_a_negative_balance() -> None:
    history = [entry("a", -40, Kind.REFUND_REVERSAL, member="dup")]
    moved = merge_entries("keep", "dup", history, stamp())
    assert negative_balances(history + moved) == {("keep", POINTS): -40}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(min_value=-10_000, max_value=10_000), min_size=1, max_size=8),
    st.data(),
)
def test_any_single_change_to_a_chained_entry_is_detected(amounts_: list[int], data: st.DataObject) -> None:
    linked = chain([entry(f"x{i}", a) for i, a in enumerate(amounts_)], 0, GENESIS)
    assert verify_chain(linked) == []
    assert balance(linked, "m1") == sum(amounts_)
    i = data.draw(st.integers(min_value=0, max_value=len(linked) - 1))
    change = data.draw(
        st.sampled_from(
            [{"amount": linked[i].amount + 1}, {"member_id": "m2"}, {"account": PRINCIPAL}, {"rule": "x"}]
        )
    )
    tampered = list(linked)
    tampered[i] = dataclasses.replace(linked[i], **change)  # type: ignore[arg-type]
    assert verify_chain(tampered) == [f"x{i}: hash does not match the content (edited?)"]
