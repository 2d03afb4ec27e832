"""The append-only member ledger: entries, balances, hash chain, refunds and merges.

A balance is never stored: it is the sum of a member's entries on one account.
Accounts are ``points``, ``stored_principal`` (本金), ``stored_bonus`` (赠送金)
and ``count:<card id>`` for each count card. Each device numbers its own
entries and chains them by hash, so the hub can see a gap, a replay or an edit.
"""

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

POINTS = "points"
PRINCIPAL = "stored_principal"
BONUS = "stored_bonus"
GENESIS = "0" * 64


def count_account(card_id: str) -> str:
    """The ledger account that holds the visits left on count card ``card_id``."""
    return f"count:{card_id}"


class Kind(StrEnum):
    """Why an entry exists (the ledger's vocabulary, shared with the hub)."""

    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    ADJUST = "adjust"
    TOP_UP = "top_up"
    SPEND = "spend"
    REFUND_REVERSAL = "refund_reversal"
    MERGE = "merge"


@dataclass(frozen=True)
class LedgerEntry:
    """One signed movement on one member account; never edited once written.

    ``reverses`` names the entry a refund or expiry undoes; ``earned_on`` keeps
    the original earn date of points moved by a merge, so they expire on time.
    """

    id: str
    member_id: str
    account: str
    kind: Kind
    amount: int
    at: str
    device: str
    sale_id: str = ""
    action: str = ""
    rule: str = ""
    reverses: str = ""
    earned_on: str = ""
    seq: int = 0
    prev: str = ""
    hash: str = ""

    @property
    def day(self) -> dt.date:
        """The local calendar day of the entry (``at`` carries the shop's offset)."""
        return dt.datetime.fromisoformat(self.at).date()

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data (for events and the hub)."""
        # Every field is a str or an int, so a shallow copy is all ``asdict`` would give; its
        # recursive deep copy was a fifth of a member sale's commit (docs/perf.md).
        data = {name: getattr(self, name) for name in _ENTRY_FIELDS}
        data["kind"] = str(self.kind)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LedgerEntry":
        """Rebuild an entry from :meth:`to_dict` output; unknown keys are an error."""
        return cls(**{**data, "kind": Kind(data["kind"])})


_ENTRY_FIELDS = tuple(f.name for f in fields(LedgerEntry))


def balances(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], int]:
    """Every (member, account) balance: the sum of its entries."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        totals[(entry.member_id, entry.account)] += entry.amount
    return dict(totals)


def balance(entries: Iterable[LedgerEntry], member_id: str, account: str = POINTS) -> int:
    """One member's balance on one account."""
    return sum(e.amount for e in entries if e.member_id == member_id and e.account == account)


def negative_balances(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], int]:
    """The balances below zero: flagged for the owner, never hidden or clamped."""
    return {key: value for key, value in balances(entries).items() if value < 0}


def entry_hash(entry: LedgerEntry) -> str:
    """sha256 over the previous hash and the entry's content (everything but ``hash``)."""
    content = entry.to_dict()
    del content["hash"]
    return _content_hash(content)


def _content_hash(content: dict[str, Any]) -> str:
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(content["prev"].encode() + body.encode()).hexdigest()


def chain(entries: Iterable[LedgerEntry], last_seq: int, last_hash: str) -> list[LedgerEntry]:
    """Number and hash ``entries`` after the device's chain head (``last_seq``, ``last_hash``)."""
    return [entry for entry, _ in chain_with_dicts(entries, last_seq, last_hash)]


def chain_with_dicts(
    entries: Iterable[LedgerEntry], last_seq: int, last_hash: str
) -> list[tuple[LedgerEntry, dict[str, Any]]]:
    """:func:`chain`, each linked entry with its :meth:`LedgerEntry.to_dict`, made once.

    A member sale needs the dict three times (the hash, the ledger row, the event);
    building it once keeps the sale's commit short.
    """
    out = []
    for entry in entries:
        last_seq += 1
        content = entry.to_dict()
        del content["hash"]
        content["seq"], content["prev"] = last_seq, last_hash
        last_hash = _content_hash(content)
        content["hash"] = last_hash
        out.append((replace(entry, seq=last_seq, prev=content["prev"], hash=last_hash), content))
    return out


def verify_chain(entries: Iterable[LedgerEntry], last_seq: int = 0, last_hash: str = GENESIS) -> list[str]:
    """Problems in one device's entries (in seq order): gaps, replays, broken links, edits."""
    problems = []
    for entry in entries:
        if entry.seq != last_seq + 1:
            problems.append(f"{entry.id}: seq {entry.seq} follows {last_seq}")
        if entry.prev != last_hash:
            problems.append(f"{entry.id}: prev does not link to the previous hash")
        if entry_hash(entry) != entry.hash:
            problems.append(f"{entry.id}: hash does not match the content (edited?)")
        last_seq, last_hash = entry.seq, entry.hash
    return problems


@dataclass(frozen=True)
class Stamp:
    """Where and when new entries are made, and the ids to give them."""

    device: str
    at: str
    ids: Iterator[str]

    def entry(self, **fields: Any) -> LedgerEntry:
        """A new entry with the next id, this device and this time."""
        return LedgerEntry(id=next(self.ids), device=self.device, at=self.at, **fields)


REVERSIBLE = frozenset({Kind.EARN, Kind.REDEEM, Kind.SPEND})


@dataclass(frozen=True)
class GivenBack:
    """A member payment of a sale (points or stored value) and the fen refunds give back by it:
    ``before`` this refund and ``after`` it, cumulative (kiosk.domain.refunds.split_payments)."""

    paid_fen: int
    before_fen: int
    after_fen: int


#: the sale payment method each kind of member-paid entry belongs to
_PAID_BY = {
    (POINTS, Kind.REDEEM): "points",
    (PRINCIPAL, Kind.SPEND): "stored_value",
    (BONUS, Kind.SPEND): "stored_value",
}


def refund_reversals(
    sale_entries: Iterable[LedgerEntry],
    sale_total_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    stamp: Stamp,
    action: str,
    given_back: Mapping[str, GivenBack] | None = None,
) -> list[LedgerEntry]:
    """Entries that undo ``refund_fen`` of a sale.

    Works on cumulative amounts, so several partial refunds add up to exactly the
    full reversal. Earned points are taken back in proportion to the money
    refunded, rounded up. Spent points and stored value come back as what the
    refund gives back by the points and stored-value payments (``given_back``, by
    method): the points worth exactly those fen, and the stored value split over
    principal and bonus in proportion (the bonus rounded up, so the two add up).
    Without ``given_back`` (a refund agreed off the terminal) they come back in
    proportion to the money, rounded down: the fraction stays with the shop.
    A full refund is always exact.
    """
    if not 0 < refund_fen <= sale_total_fen - refunded_before_fen:
        raise ValueError(
            f"refund of {refund_fen} fen does not fit a sale of {sale_total_fen} fen "
            f"with {refunded_before_fen} fen already refunded"
        )
    entries = [e for e in sale_entries if e.kind in REVERSIBLE and e.amount != 0]
    after = refunded_before_fen + refund_fen
    back_by_entry = _member_paid_back(entries, given_back or {})
    out = []
    for original in entries:
        if original.id in back_by_entry:
            delta = -back_by_entry[original.id]
        else:
            delta = _share(original.amount, after, sale_total_fen) - _share(
                original.amount, refunded_before_fen, sale_total_fen
            )
        if delta:
            out.append(
                stamp.entry(
                    member_id=original.member_id,
                    account=original.account,
                    kind=Kind.REFUND_REVERSAL,
                    amount=-delta,
                    sale_id=original.sale_id,
                    action=action,
                    rule=f"refund {refund_fen}/{sale_total_fen} of {original.kind}",
                    reverses=original.id,
                )
            )
    return out


def _member_paid_back(entries: list[LedgerEntry], given_back: Mapping[str, GivenBack]) -> dict[str, int]:
    """Entry id: what this refund gives back of it, for the debits of the payments in ``given_back``.

    A payment's debits together give back ``taken × fen / paid`` cumulatively (exact: its
    fen are whole points steps); each debit its part rounded down, the last one the rest.
    """
    out: dict[str, int] = {}
    for method, back in given_back.items():
        debits = [e for e in entries if _PAID_BY.get((e.account, e.kind)) == method]
        if not debits or not back.paid_fen:
            continue
        taken = [-e.amount for e in debits]

        def upto(fen: int, taken: list[int] = taken, paid: int = back.paid_fen) -> list[int]:
            parts = [t * fen // paid for t in taken[:-1]]
            return [*parts, sum(taken) * fen // paid - sum(parts)]

        for entry, before, after in zip(debits, upto(back.before_fen), upto(back.after_fen), strict=True):
            out[entry.id] = after - before
    return out


def _share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole`` rounded up: a credit taken back rounds up, a debit
    given back rounds toward zero, i.e. the fraction always stays with the shop."""
    return -(-amount * part // whole)


def merge_entries(
    survivor_id: str,
    duplicate_id: str,
    entries: Iterable[LedgerEntry],
    stamp: Stamp,
    point_lots: Iterable[tuple[str, int]] = (),
) -> list[LedgerEntry]:
    """Move every balance of ``duplicate_id`` to ``survivor_id`` as paired merge entries.

    ``point_lots`` are the duplicate's unexpired (earned_on, points) lots; when
    given, points move lot by lot so they keep their expiry dates. Negative
    balances move too: a merge never hides a debt.
    """
    action = f"merge:{duplicate_id}->{survivor_id}"
    lots = list(point_lots)
    out = []
    for (member, account), amount in sorted(balances(entries).items()):
        if member != duplicate_id or amount == 0:
            continue
        moves = [(lot_day, pts) for lot_day, pts in lots] if account == POINTS and lots else []
        if sum(p for _, p in moves) != amount:
            moves = [("", amount)]
        for earned_on, pts in moves:
            common = {"account": account, "kind": Kind.MERGE, "action": action, "rule": "merge"}
            out.append(stamp.entry(member_id=duplicate_id, amount=-pts, **common))
            out.append(stamp.entry(member_id=survivor_id, amount=pts, earned_on=earned_on, **common))
    return out
