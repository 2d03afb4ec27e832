"""Errors of the loyalty rules; all are DomainErrors so callers can catch one root."""

from kiosk.domain.errors import DomainError


class LoyaltyError(DomainError):
    """A loyalty rule refused an operation; the message says which rule and why."""


class InvalidPhone(LoyaltyError):
    """A phone number that cannot be a real mobile or landline number."""


class InsufficientBalance(LoyaltyError):
    """A member tried to spend more points, stored value or visits than they hold."""


class CouponNotApplicable(LoyaltyError):
    """A coupon is expired, already used, below its threshold, or cannot stack."""


class CardExpired(LoyaltyError):
    """A count card (次卡) was used after its expiry date."""


class OfflineCapExceeded(LoyaltyError):
    """Offline, the member's spend on this terminal would pass the risk cap."""


class InvalidAttribute(LoyaltyError):
    """A member attribute value or tag that does not fit its definition; the message names the fix."""
