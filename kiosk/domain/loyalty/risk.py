"""The offline risk cap: how much stored value and points a member may spend without the hub.

A terminal that cannot reach the hub does not know whether the same member is
spending the same balance at another terminal. It therefore spends at most a
configured amount per member while offline; above that the sale must wait for
the hub, or an attendant overrides, which is recorded for audit.
"""

from dataclasses import dataclass
from enum import StrEnum

from kiosk.domain.loyalty.rules import RiskCap


class Verdict(StrEnum):
    """What the terminal may do with a spend."""

    ALLOW = "allow"
    NEEDS_HUB = "needs_hub"
    OVERRIDDEN = "overridden"


@dataclass(frozen=True)
class OfflineSpend:
    """What a member has spent (or asks to spend) on this terminal while offline."""

    points: int = 0
    stored_value_fen: int = 0


@dataclass(frozen=True)
class RiskDecision:
    """The verdict, and for an override the audit record the caller must store."""

    verdict: Verdict
    reason: str
    audit: dict[str, object] | None = None


def check_offline_spend(
    online: bool,
    already: OfflineSpend,
    asked: OfflineSpend,
    cap: RiskCap,
    override_by: str = "",
) -> RiskDecision:
    """Allow online spends; offline, allow up to the cap, or with an attendant's override."""
    if online:
        return RiskDecision(Verdict.ALLOW, "hub reachable")
    points = already.points + asked.points
    fen = already.stored_value_fen + asked.stored_value_fen
    over = []
    if asked.points and points > cap.offline_points:
        over.append(f"points {points} > {cap.offline_points}")
    if asked.stored_value_fen and fen > cap.offline_stored_value_fen:
        over.append(f"stored value {fen} fen > {cap.offline_stored_value_fen} fen")
    if not over:
        return RiskDecision(Verdict.ALLOW, "within the offline cap")
    reason = "offline cap exceeded: " + ", ".join(over)
    if not override_by:
        return RiskDecision(Verdict.NEEDS_HUB, reason + " / 离线消费超出限额，请联网或由店员授权")
    audit = {
        "action": "offline_cap_override",
        "staff": override_by,
        "reason": reason,
        "points": asked.points,
        "stored_value_fen": asked.stored_value_fen,
    }
    return RiskDecision(Verdict.OVERRIDDEN, reason, audit)
