"""Phone numbers: the member's identity across stores, normalised to E.164.

Also the masking helpers used on screens and receipts, so a phone number or a
name is never shown whole to the person standing behind the customer.
"""

from types import ModuleType

from kiosk.domain.loyalty.errors import InvalidPhone

DEFAULT_REGION = "CN"


def _phonenumbers() -> ModuleType:
    """The phonenumbers library, imported with the first number read, not at start: its 58
    modules are about 2 MB that a terminal keeps for nothing until a member gives a phone
    number or is shown masked (docs/perf.md, "Memory, fourth pass")."""
    import phonenumbers

    return phonenumbers


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """Return ``text`` as E.164 (``+8613812341234``); a number without ``+`` is in ``region``.

    Raises InvalidPhone when the text is not a valid number for its region.
    """
    phonenumbers = _phonenumbers()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {text!r} / 不是手机号：“{text}”") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {text!r} / 不是有效的手机号：“{text}”")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The national significant number of an E.164 number: ``+8613812341234`` -> ``13812341234``."""
    phonenumbers = _phonenumbers()
    return phonenumbers.national_significant_number(phonenumbers.parse(e164, None))


def mask_phone(e164: str) -> str:
    """Show the first three and last four national digits: ``138****1234``.

    Numbers shorter than eight digits keep only their last two digits visible.
    """
    digits = national_digits(e164)
    if len(digits) < 8:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    """Keep the first character of a name and star the rest: ``张三丰`` -> ``张**``."""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)
