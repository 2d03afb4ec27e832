"""The HTTP provider against the gateway simulator, over real HTTP on 127.0.0.1."""

from collections.abc import Iterator

import pytest

from kiosk.devtools.ports import free_port
from kiosk.payments import (
    HttpGatewayProvider,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    RefundRequest,
    wallet_for_code,
)
from kiosk.payments.gateway_sim import PaymentGatewaySimulator

WECHAT_OK = "134567890123456780"
ALIPAY_OK = "28765432109876543210"
WECHAT_NO_FUNDS = "134567890123456791"
ALIPAY_EXPIRED = "2876543210987654392"
WECHAT_HANGS = "134567890123456793"


@pytest.fixture(scope="module")
def gateway() -> Iterator[PaymentGatewaySimulator]:
    with PaymentGatewaySimulator(hang_seconds=1.5) as sim:
        yield sim


def charge(
    gateway: PaymentGatewaySimulator, order: str, code: str, fen: int, timeout: float = 5
) -> PaymentResult:
    return HttpGatewayProvider(gateway.url, timeout=timeout).charge(PaymentRequest(order, code, fen))


def test_wallets_are_told_apart_by_their_auth_code() -> None:
    assert wallet_for_code(WECHAT_OK) == "wechat"
    assert wallet_for_code(ALIPAY_OK) == "alipay"
    assert wallet_for_code("6901010370005") is None
    assert wallet_for_code("164567890123456780") is None  # 16 is not a WeChat prefix


def test_good_codes_are_charged_once_with_a_transaction_id(gateway: PaymentGatewaySimulator) -> None:
    wechat = charge(gateway, "order-ok-1", WECHAT_OK, 3440)
    alipay = charge(gateway, "order-ok-2", ALIPAY_OK, 1050)
    assert (wechat.status, wechat.amount_fen, wechat.reference[:3]) == (PaymentStatus.APPROVED, 3440, "SIM")
    assert (alipay.status, alipay.amount_fen) == (PaymentStatus.APPROVED, 1050)
    assert gateway.ledger.charges[-2:] == ["order-ok-1", "order-ok-2"]


def test_declines_carry_the_gateway_reason_and_take_nothing(gateway: PaymentGatewaySimulator) -> None:
    poor = charge(gateway, "order-poor", WECHAT_NO_FUNDS, 500)
    expired = charge(gateway, "order-expired", ALIPAY_EXPIRED, 500)
    assert (poor.status, poor.reason) == (PaymentStatus.DECLINED, "NOTENOUGH")
    assert (expired.status, expired.reason) == (PaymentStatus.DECLINED, "AUTHCODEEXPIRE")
    assert "order-poor" not in gateway.ledger.charges
    assert "order-expired" not in gateway.ledger.charges


def test_a_hanging_gateway_times_out_and_the_order_is_reversed(gateway: PaymentGatewaySimulator) -> None:
    result = charge(gateway, "order-slow", WECHAT_HANGS, 800, timeout=0.4)
    assert (result.status, result.reason, result.reference) == (PaymentStatus.TIMEOUT, "TIMEOUT", "")
    assert gateway.ledger.orders["order-slow"].state == "REVERSED"
    assert "order-slow" not in gateway.ledger.charges


def test_a_duplicated_request_returns_the_first_answer_and_charges_once(
    gateway: PaymentGatewaySimulator,
) -> None:
    first = charge(gateway, "order-dup", WECHAT_OK, 990)
    again = charge(gateway, "order-dup", WECHAT_OK, 990)
    assert again == first
    assert gateway.ledger.charges.count("order-dup") == 1


def test_same_order_with_another_amount_is_a_conflict(gateway: PaymentGatewaySimulator) -> None:
    charge(gateway, "order-conflict", WECHAT_OK, 100)
    result = charge(gateway, "order-conflict", WECHAT_OK, 200)
    assert (result.status, result.reason) == (PaymentStatus.DECLINED, "ORDER_CONFLICT")
    assert gateway.ledger.charges.count("order-conflict") == 1


def test_unreachable_gateway_is_an_error_not_an_exception() -> None:
    provider = HttpGatewayProvider(f"http://127.0.0.1:{free_port()}", timeout=1)
    result = provider.charge(PaymentRequest("order-offline", WECHAT_OK, 100))
    assert (result.status, result.reason) == (PaymentStatus.ERROR, "NETWORK")


def test_non_positive_amount_is_a_programming_error(gateway: PaymentGatewaySimulator) -> None:
    with pytest.raises(ValueError, match="positive"):
        charge(gateway, "order-zero", WECHAT_OK, 0)


def refund(gateway: PaymentGatewaySimulator, refund_id: str, txn: str, fen: int) -> PaymentResult:
    return HttpGatewayProvider(gateway.url, timeout=5).refund(RefundRequest(refund_id, txn, fen, "broken"))


def test_refund_pays_back_part_of_a_charge_once_per_refund_id(gateway: PaymentGatewaySimulator) -> None:
    txn = charge(gateway, "order-refund-1", WECHAT_OK, 3000).reference
    first = refund(gateway, "rf-1-0", txn, 1200)
    assert (first.status, first.order_id, first.amount_fen, first.reference[:2]) == (
        PaymentStatus.APPROVED, "rf-1-0", 1200, "RF",
    )  # fmt: skip
    again = refund(gateway, "rf-1-0", txn, 1200)
    assert again == first
    assert gateway.ledger.paid_back.count("rf-1-0") == 1
    conflict = refund(gateway, "rf-1-0", txn, 1300)
    assert (conflict.status, conflict.reason) == (PaymentStatus.DECLINED, "REFUND_CONFLICT")


def test_refund_above_what_the_charge_has_left_is_declined(gateway: PaymentGatewaySimulator) -> None:
    txn = charge(gateway, "order-refund-2", ALIPAY_OK, 1000).reference
    assert refund(gateway, "rf-2-0", txn, 600).approved
    over = refund(gateway, "rf-2-1", txn, 401)
    assert (over.status, over.reason, over.reference) == (PaymentStatus.DECLINED, "REFUND_EXCEEDS", "")
    assert refund(gateway, "rf-2-2", txn, 400).approved
    assert [r for r in gateway.ledger.paid_back if r.startswith("rf-2")] == ["rf-2-0", "rf-2-2"]


def test_refund_of_an_unknown_or_declined_charge_is_declined(gateway: PaymentGatewaySimulator) -> None:
    unknown = refund(gateway, "rf-3-0", "SIMNOSUCHTRANSACTION", 100)
    assert (unknown.status, unknown.reason) == (PaymentStatus.DECLINED, "TRADE_NOT_EXIST")
    declined = charge(gateway, "order-refund-3", WECHAT_NO_FUNDS, 500)
    never_paid = refund(gateway, "rf-3-1", declined.reference, 500)
    assert (never_paid.status, never_paid.reason) == (PaymentStatus.DECLINED, "TRADE_NOT_EXIST")
    assert "rf-3-0" not in gateway.ledger.paid_back and "rf-3-1" not in gateway.ledger.paid_back


def test_refund_to_an_unreachable_gateway_is_an_error_to_retry() -> None:
    provider = HttpGatewayProvider(f"http://127.0.0.1:{free_port()}", timeout=1)
    result = provider.refund(RefundRequest("rf-4-0", "SIMX", 100))
    assert (result.status, result.reason, result.amount_fen) == (PaymentStatus.ERROR, "NETWORK", 100)
