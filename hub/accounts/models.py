"""The hub's own people and integrations: owner accounts, their sessions, API tokens."""

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from hub.ingest.models import BaseModel


class Account(BaseModel):
    """Someone who signs in to the dashboard: an owner, a manager of some stores, an accountant."""

    id = AutoField()
    name = CharField(unique=True)
    role = CharField()
    # managers only: the stores they may see, comma-separated ("S01,S02"); empty for the other roles
    stores = CharField(default="")
    password_hash = CharField()
    created_at = DateTimeField()
    disabled_at = DateTimeField(null=True)
    # consecutive failed logins and the lockout they earned (cleared by a good login)
    failures = IntegerField(default=0)
    locked_until = DateTimeField(null=True)


class Session(BaseModel):
    """A signed-in browser: only the SHA-256 of its cookie is stored, so a database copy opens nothing."""

    token_hash = CharField(primary_key=True)
    account = ForeignKeyField(Account, on_delete="CASCADE")
    csrf = CharField()
    created_at = DateTimeField()
    seen_at = DateTimeField()
    expires_at = DateTimeField()


class ApiToken(BaseModel):
    """An integration's bearer token: scoped to areas, stored hashed, revocable."""

    id = CharField(primary_key=True)
    name = CharField()
    scopes = CharField()  # "reports:read,members:write"
    secret_hash = CharField()
    created_by = CharField()
    created_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    # False until the first use: `hub token list` shows which tokens were never used
    used = BooleanField(default=False)


class LoginFailure(BaseModel):
    """One failed sign-in or setup code from a client address, kept for the limiter's window.

    In the database rather than a process's memory, so every hub process (workers, a restart)
    counts the same failures; rows older than the window are deleted as new ones arrive.
    """

    id = AutoField()
    address = CharField(index=True)
    at_ms = BigIntegerField(index=True)  # unix milliseconds


MODELS = [Account, Session, ApiToken, LoginFailure]
