"""Command-line options more than one ``hub`` command takes."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class Broker:
    """The broker a command publishes through, as the command line gave it."""

    host: str
    port: int
    user: str | None
    password: str | None
    ca_file: str | None


def broker_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the broker's options to ``command``, which receives them as one ``broker: Broker``."""

    @functools.wraps(command)
    def with_broker(
        *args: Any,
        mqtt_host: str,
        mqtt_port: int,
        mqtt_user: str | None,
        mqtt_password: str | None,
        ca_file: str | None,
        **kwargs: Any,
    ) -> None:
        command(*args, broker=Broker(mqtt_host, mqtt_port, mqtt_user, mqtt_password, ca_file), **kwargs)

    for option in reversed(
        [
            click.option("--mqtt-host", default="127.0.0.1", show_default=True),
            click.option("--mqtt-port", default=1883, show_default=True, type=int),
            click.option("--mqtt-user", default=None),
            click.option("--mqtt-password", default=None, envvar="HUB_MQTT_PASSWORD"),
            click.option("--ca-file", default=None),
        ]
    ):
        with_broker = option(with_broker)
    return with_broker
