"""Shared fixtures: a real Mosquitto, real SQLite files, a real PostgreSQL database, Xvfb."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.devtools import catalogs
from kiosk.devtools.broker import MosquittoBroker
from kiosk.devtools.xvfb import Xvfb

PG_ADMIN_DSN = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The apps read compiled catalogs: compile those whose ``.po`` changed, as bootstrap does."""
    for domain in catalogs.DOMAINS:
        catalogs.compile_catalogs(domain)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """One private Mosquitto for the test session, on a free port."""
    with MosquittoBroker(tmp_path_factory.mktemp("broker")) as running:
        yield running


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A Mosquitto for one test, which the test may stop and start (not started yet)."""
    broker = MosquittoBroker(tmp_path / "broker")
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """An Xvfb display for Kivy windows; its name, like ``:99``."""
    with Xvfb(800, 480) as server:
        yield server.display


@pytest.fixture
def kiosk_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The terminal's database on a fresh SQLite file, migrated."""
    from kiosk.store import open_database

    db = open_database(tmp_path / "kiosk.db")
    yield db
    db.close()


def _postgres_database() -> Iterator[str]:
    import psycopg2

    name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from hub.db import database

        if database.obj is not None and not database.obj.is_closed():
            database.obj.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A throwaway hub database URL: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def hub_db(hub_db_url: str):  # type: ignore[no-untyped-def]
    """The hub database opened on ``hub_db_url``, schema created."""
    from hub.db.schema import open_hub_database

    db = open_hub_database(hub_db_url)
    yield db
    db.close()
