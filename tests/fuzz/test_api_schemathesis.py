"""schemathesis over every operation of the hub's OpenAPI document: no input answers 5xx.

The document is the app's own (``app.openapi()``), the calls go to the real app in this
process (ASGI), configured as ``hub serve`` configures it (terminal credentials checked
against Mosquitto's password file, the catalog published to the session's real broker), on a SQLite hub
holding the loyalty story's members, sales and rules, so ids that exist are among those tried,
as the signed-in owner (session cookie and CSRF token), who may call every operation.
``FUZZ_SCALE`` multiplies the examples per operation.
"""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error

from hub.api.member_snapshot import DeviceAuth
from hub.db.schema import open_hub_database
from hub.devtools.loyalty_story import NOW, TZ, seed
from hub.devtools.signed_in import session_for
from hub.members import ledger as loyalty
from hub.web.app import create_app
from hub.web.auth import COOKIE, SignedIn, declared_routes
from hub.web.catalog import broker_publisher
from kiosk.devtools.broker import MosquittoBroker
from kiosk.domain.loyalty import LoyaltyRules
from tests.fuzz.budget import SCALE

BROKER: dict[str, int] = {}  # the session broker's port, known once the fixture runs


def publish_to_session_broker() -> tuple[int, int]:
    """The catalog page's publisher, as `hub serve` makes it, on the session's Mosquitto."""
    return broker_publisher("127.0.0.1", BROKER["port"])()


# no terminal registered yet (no password file): every terminal credential is refused with 401
AUTH = DeviceAuth(Path("/nonexistent/mosquitto/passwd"))
APP = create_app(TZ, today=lambda: NOW.date(), device_auth=AUTH, publish_catalog=publish_to_session_broker)
SCHEMA = schemathesis.openapi.from_dict(APP.openapi())
SCHEMA.app = APP
# the operations a signed-in account may call (the others: public, terminals, the SMS gateway)
FOR_ACCOUNTS = {
    (path, method)
    for path, methods, rules in declared_routes(APP)
    if any(isinstance(rule, SignedIn) for rule in rules)
    for method in methods
}


@pytest.fixture(scope="module", autouse=True)
def story_hub(tmp_path_factory: pytest.TempPathFactory, broker: MosquittoBroker):  # type: ignore[no-untyped-def]
    """One SQLite hub with the loyalty story in it, served as `hub serve` serves it."""
    work = tmp_path_factory.mktemp("schemathesis")
    db = open_hub_database(f"sqlite:///{work / 'hub.db'}")
    seed(work)
    BROKER["port"] = broker.port
    yield db
    loyalty.configure(LoyaltyRules(), None)
    db.close()


@SCHEMA.parametrize()
@settings(max_examples=5 * SCALE, deadline=None, derandomize=SCALE == 1)
def test_no_operation_answers_a_server_error(case) -> None:  # type: ignore[no-untyped-def]
    for_accounts = (case.path, case.method.upper()) in FOR_ACCOUNTS
    if for_accounts and case.headers:
        # a generated bearer token would be refused before the owner's session is looked at
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    token, csrf = session_for("owner")  # a fresh session: an earlier example may have signed out
    answer = case.call_and_validate(
        checks=[not_a_server_error], headers={"X-CSRF-Token": csrf}, cookies={COOKIE: token}
    )
    if for_accounts:
        assert answer.status_code not in (401, 403), "the owner's session opens every account operation"
