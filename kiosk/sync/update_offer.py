"""The software update the hub offers a terminal (``pos/{d}/down/update``, retained).

The hub publishes one retained message per device naming a version of the
``member-kiosk`` distribution and the wheel files that make it up, each with
its SHA-256 and the URL the terminal downloads it from (the hub's own HTTP
server). The MQTT login is what the terminal trusts; the download itself may
be plain HTTP because every byte is checked against the SHA-256 in the offer.
An empty retained message withdraws the offer.
"""

import json
import re

from pydantic import BaseModel as Schema
from pydantic import ConfigDict, Field, ValidationError

from kiosk.sync.schema import SCHEMA_VERSION, SchemaError, canonical

__all__ = ["OfferedFile", "UpdateOffer", "offer_message", "parse_offer"]

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A wheel file name only: no directories, so a download can never land outside its folder.
WHEEL_NAME = re.compile(r"^[A-Za-z0-9_.+-]+\.whl$")


class OfferedFile(Schema):
    """One wheel of the offered version."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Wheel file name, e.g. member_kiosk-0.2.0-py3-none-any.whl.")
    sha256: str = Field(description="Lower-case hex SHA-256 of the file.")
    size: int = Field(ge=1, description="Size in bytes.")
    url: str = Field(description="Where the terminal downloads it (http:// or https://).")


class UpdateOffer(Schema):
    """The whole offer: one version and every file it needs."""

    model_config = ConfigDict(extra="forbid")

    v: int = Field(description="Schema version of the message (1).")
    version: str = Field(min_length=1, description="The member-kiosk version offered.")
    issued_at: str = Field(description="When the hub issued the offer (ISO 8601).")
    files: list[OfferedFile] = Field(min_length=1, description="The wheels to install, all of them.")


def offer_message(offer: UpdateOffer) -> bytes:
    """The retained payload for ``offer``."""
    return canonical(offer.model_dump())


def parse_offer(payload: bytes) -> UpdateOffer:
    """Decode an offer; raise SchemaError naming what is wrong."""
    try:
        offer = UpdateOffer.model_validate(json.loads(payload))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"update offer is not JSON: {exc}") from exc
    except ValidationError as exc:
        raise SchemaError(f"update offer does not follow the schema: {exc.errors()[0]}") from exc
    if offer.v != SCHEMA_VERSION:
        raise SchemaError(f"unknown update offer schema version {offer.v}")
    for item in offer.files:
        if not WHEEL_NAME.match(item.name):
            raise SchemaError(f"update offer names a file that is not a plain wheel name: {item.name!r}")
        if not SHA256.match(item.sha256):
            raise SchemaError(f"update offer gives {item.name} a malformed sha256")
        if not item.url.startswith(("http://", "https://")):
            raise SchemaError(f"update offer gives {item.name} a URL that is not http(s): {item.url!r}")
    if not any(f.name.startswith(f"member_kiosk-{offer.version}-") for f in offer.files):
        raise SchemaError(f"update offer for {offer.version} has no member_kiosk-{offer.version} wheel")
    return offer
