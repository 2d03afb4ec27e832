"""The HTTP provider against the gateway simulator, over real HTTP on 127.0.0.1."""

from collections.abc import Iterator

import pytest

from kiosk.devtools.ports import free_port
from kiosk.payments import HttpGatewayProvider, PaymentRequest, PaymentResult, PaymentStatus, wallet_for_code
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
