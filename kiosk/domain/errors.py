"""The one root error of the domain package and its children."""


class DomainError(Exception):
    """A shop rule was broken; the message says which, for the log."""


class QuantityError(DomainError):
    """A quantity outside what a cart line may hold."""


class UnknownLineError(DomainError):
    """A cart operation named a product that is not in the cart."""
