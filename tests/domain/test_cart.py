import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.cart import MAX_QUANTITY, Cart, Product
from kiosk.domain.errors import QuantityError, UnknownLineError

WATER = Product("DRK-001", "6901010370005", "农夫山泉 550ml", "Nongfu Spring water 550ml", 200, "drinks")
MILK = Product("DRY-001", "6902010370001", "蒙牛纯牛奶 250ml", "Mengniu milk 250ml", 350, "dairy")
NO_EN = Product("X-1", "", "散装糖果", "", 1290)


def test_empty_cart_totals_zero() -> None:
    cart = Cart()
    assert cart.total_fen == 0
    assert cart.item_count == 0
    assert cart.is_empty


def test_adding_same_product_grows_its_line() -> None:
    cart = Cart().add(WATER).add(MILK).add(WATER)
    assert [(line.product.sku, line.quantity) for line in cart.lines] == [("DRK-001", 2), ("DRY-001", 1)]
    assert cart.total_fen == 750
    assert cart.item_count == 3


def test_add_with_quantity() -> None:
    assert Cart().add(MILK, 4).total_fen == 1400


@pytest.mark.parametrize("quantity", [0, -1])
def test_add_rejects_non_positive_quantity(quantity: int) -> None:
    with pytest.raises(QuantityError):
        Cart().add(WATER, quantity)


def test_line_cannot_exceed_max_quantity() -> None:
    cart = Cart().add(WATER, MAX_QUANTITY)
    with pytest.raises(QuantityError):
        cart.add(WATER)
    with pytest.raises(QuantityError):
        Cart().add(WATER, MAX_QUANTITY + 1)


def test_set_quantity_changes_line_and_total() -> None:
    cart = Cart().add(WATER).add(MILK).set_quantity("DRK-001", 5)
    assert cart.lines[0].quantity == 5
    assert cart.total_fen == 5 * 200 + 350


def test_set_quantity_zero_removes_line() -> None:
    cart = Cart().add(WATER).add(MILK).set_quantity("DRK-001", 0)
    assert [line.product.sku for line in cart.lines] == ["DRY-001"]


def test_remove_and_unknown_line() -> None:
    cart = Cart().add(WATER).add(MILK)
    assert cart.remove("DRY-001") == Cart().add(WATER)
    with pytest.raises(UnknownLineError):
        cart.remove("NOPE")
    with pytest.raises(UnknownLineError):
        cart.set_quantity("NOPE", 1)


def test_operations_return_new_carts() -> None:
    cart = Cart().add(WATER)
    cart.add(MILK)
    assert cart.item_count == 1


def test_product_name_falls_back_to_chinese() -> None:
    assert WATER.name("en") == "Nongfu Spring water 550ml"
    assert WATER.name("zh") == "农夫山泉 550ml"
    assert NO_EN.name("en") == "散装糖果"


@given(st.lists(st.tuples(st.sampled_from([WATER, MILK, NO_EN]), st.integers(1, 20)), max_size=30))
def test_total_is_sum_of_price_times_quantity(adds: list[tuple[Product, int]]) -> None:
    cart = Cart()
    expected: dict[str, int] = {}
    for product, qty in adds:
        if expected.get(product.sku, 0) + qty > MAX_QUANTITY:
            continue
        cart = cart.add(product, qty)
        expected[product.sku] = expected.get(product.sku, 0) + qty
    prices = {p.sku: p.price_fen for p in (WATER, MILK, NO_EN)}
    assert cart.total_fen == sum(prices[sku] * qty for sku, qty in expected.items())
    assert cart.item_count == sum(expected.values())
