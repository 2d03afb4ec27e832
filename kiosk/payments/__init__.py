"""Payments: the :class:`PaymentProvider` interface, an HTTP provider and a gateway simulator.

A provider's calls block while the gateway answers, so the app runs them on a
worker thread and hands the result back to the UI through the Clock.
"""

from kiosk.payments.base import (
    PaymentProvider,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    RefundRequest,
    wallet_for_code,
)
from kiosk.payments.http_provider import HttpGatewayProvider

__all__ = [
    "HttpGatewayProvider",
    "PaymentProvider",
    "PaymentRequest",
    "PaymentResult",
    "PaymentStatus",
    "RefundRequest",
    "wallet_for_code",
]
