"""How a ``hub`` command ends on a refusal: the refusal's own zh/en line, exit status 1, no traceback."""

from collections.abc import Iterator
from contextlib import contextmanager

import click

__all__ = ["refused_by"]


@contextmanager
def refused_by(*errors: type[Exception]) -> Iterator[None]:
    """Run the block; one of ``errors`` (whose message is already bilingual) ends the command with it."""
    try:
        yield
    except errors as exc:
        raise click.ClickException(str(exc)) from exc
