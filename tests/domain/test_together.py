"""The cart's one suggestion: the best lift over the cart's products, not in the cart, not skipped."""

from kiosk.domain.cart import Cart, Product
from kiosk.domain.together import Pairing, TogetherIndex, suggest

WATER = Product("water", "", "矿泉水", "Water", 200)
CHIPS = Product("chips", "", "薯片", "Chips", 750)
MILK = Product("milk", "", "牛奶", "Milk", 350)
YOGURT = Product("yogurt", "", "酸奶", "Yogurt", 600)
BREAD = Product("bread", "", "面包", "Bread", 900)

INDEX = TogetherIndex(
    {
        # given weakest first: the index orders each product's pairings by lift, then confidence
        "water": (Pairing(BREAD, 1300, 2000), Pairing(CHIPS, 1300, 4000), Pairing(MILK, 1800, 1000)),
        "milk": (Pairing(YOGURT, 1800, 1000), Pairing(WATER, 1500, 9000)),
    }
)


def cart(*products: Product) -> Cart:
    built = Cart()
    for product in products:
        built = built.add(product)
    return built


def test_the_strongest_pairing_of_a_product_comes_first() -> None:
    assert [p.product.sku for p in INDEX.by_sku["water"]] == ["milk", "chips", "bread"]
    assert len(INDEX) == 5
    assert suggest(INDEX, cart(WATER)) == MILK


def test_a_pairing_already_in_the_cart_gives_way_to_the_next_strongest() -> None:
    # water's milk is in the cart: its chips (1.3, confidence 40 %) against milk's yogurt (1.8)
    assert suggest(INDEX, cart(WATER, MILK)) == YOGURT
    assert suggest(INDEX, cart(WATER, MILK, YOGURT)) == CHIPS  # milk's water is in the cart too


def test_equal_lift_goes_to_the_higher_confidence_then_the_lower_sku() -> None:
    assert suggest(INDEX, cart(WATER), skip=frozenset({"milk"})) == CHIPS  # over bread: 40 % > 20 %
    tie = TogetherIndex({"water": (Pairing(CHIPS, 1300, 4000),), "milk": (Pairing(BREAD, 1300, 4000),)})
    assert suggest(tie, cart(WATER, MILK)) == BREAD


def test_nothing_to_suggest() -> None:
    assert suggest(INDEX, Cart()) is None
    assert suggest(INDEX, cart(BREAD)) is None  # no rules for bread
    assert suggest(INDEX, cart(WATER), skip=frozenset({"milk", "chips", "bread"})) is None
    assert suggest(TogetherIndex(), cart(WATER, MILK)) is None
