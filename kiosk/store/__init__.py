"""The terminal's local storage: peewee models on SQLite, migrations, outbox, sale commit."""

from kiosk.store.connection import database
from kiosk.store.db import open_database
from kiosk.store.sales import PaymentIntent, Terminal, commit_sale

__all__ = ["PaymentIntent", "Terminal", "commit_sale", "database", "open_database"]
