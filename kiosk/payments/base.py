"""The boundary between the kiosk and a mobile payment gateway (WeChat Pay, Alipay).

The shopper shows the payment code (付款码) in their wallet app and the kiosk
scans it; that auth code and the amount go to the gateway in one
:meth:`PaymentProvider.charge` call.
"""

import abc
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from kiosk.hw.scans import payment_provider

Wallet = Literal["wechat", "alipay"]


class PaymentStatus(StrEnum):
    """How a charge ended."""

    APPROVED = "approved"  # money taken; ``reference`` is the gateway's transaction id
    DECLINED = "declined"  # the wallet refused (no funds, expired code); nothing taken
    TIMEOUT = "timeout"  # no answer in time; the provider cancelled the order, nothing taken
    ERROR = "error"  # the gateway could not be reached or answered nonsense; nothing taken


@dataclass(frozen=True)
class PaymentRequest:
    """One charge: our order id (idempotency key), the scanned auth code, the amount."""

    order_id: str
    auth_code: str
    amount_fen: int
    description: str = ""

    @property
    def wallet(self) -> Wallet | None:
        """Which wallet the auth code belongs to."""
        return wallet_for_code(self.auth_code)


@dataclass(frozen=True)
class PaymentResult:
    """What the gateway said, with a reason code for the log and the shopper's message key."""

    status: PaymentStatus
    order_id: str
    amount_fen: int
    reference: str = ""
    reason: str = ""

    @property
    def approved(self) -> bool:
        """True when the money was taken."""
        return self.status is PaymentStatus.APPROVED


@dataclass(frozen=True)
class RefundRequest:
    """Money back to the wallet a charge took it from.

    ``refund_id`` is the idempotency key (one per refund and payment); ``transaction``
    is the gateway's id of the original charge (the sale payment's reference).
    """

    refund_id: str
    transaction: str
    amount_fen: int
    reason: str = ""


def wallet_for_code(code: str) -> Wallet | None:
    """``wechat`` for an 18-digit code starting 10-15, ``alipay`` for 16-24 digits starting 25-30."""
    return payment_provider(code)


class PaymentProvider(abc.ABC):
    """A mobile payment gateway. Implementations must be safe to call from a worker thread.

    Required: :meth:`charge` and :meth:`refund`. A provider never raises for a gateway's answer or
    for a network failure: it returns a :class:`PaymentResult` whose status says
    what happened, so the app can tell the shopper. It raises only for
    programming errors (ValueError for a malformed request).
    """

    @abc.abstractmethod
    def charge(self, request: PaymentRequest) -> PaymentResult:
        """Take ``request.amount_fen`` with the scanned auth code; blocks until decided.

        Charging the same ``order_id`` twice must not take money twice: the
        gateway's original result is returned.
        """

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> PaymentResult:
        """Give ``request.amount_fen`` of a settled charge back; blocks until decided.

        APPROVED carries the gateway's refund id as ``reference``. Refunding the same
        ``refund_id`` twice returns the first answer and never pays back twice; a refund
        above what the charge has left, or of an unknown charge, is DECLINED with the
        gateway's reason.
        """

    def cancel(self, order_id: str) -> bool:
        """Cancel (reverse) an undecided order; True when the gateway confirmed. Optional."""
        return False
