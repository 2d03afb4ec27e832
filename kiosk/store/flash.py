"""This terminal's flash sales (秒杀): its shares from the applied config, what it sold itself."""

import json

from peewee import fn

from kiosk.domain.flash import FlashOffer, offers_for
from kiosk.store.models import AppliedConfig, SaleLine

_cache: dict[tuple[int, str], list[FlashOffer]] = {}  # (applied version, device): parsed once per release


def flash_offers(device: str) -> list[FlashOffer]:
    """The flash sales of the applied config release that give ``device`` a share.

    A scan costs one small query (the applied version); the release body, catalog and all,
    is parsed once per version.
    """
    version = AppliedConfig.select(AppliedConfig.version).where(AppliedConfig.id == 1).scalar()
    if version is None:
        return []
    key = (int(version), device)
    if key not in _cache:
        body = AppliedConfig.get_by_id(1).body
        _cache.clear()
        _cache[key] = offers_for(json.loads(body).get("campaigns", []), device)
    return _cache[key]


def sold_here(offer: FlashOffer) -> int:
    """Units this terminal sold at the flash price (refunds not netted: a refunded unit does not
    go back to the share, so the cap holds whatever happens)."""
    query = SaleLine.select(fn.SUM(SaleLine.quantity)).where(
        SaleLine.sku == offer.sku, SaleLine.unit_price_fen == offer.price_fen
    )
    return int(query.scalar() or 0)
