"""Errors shared by several parts of the hub; each part raises them, the ingest answers them."""


class HubError(Exception):
    """The root of the hub's own errors."""


class Rejected(HubError):
    """An event that cannot be applied; the message is the reason sent back to the terminal."""


class Forked(Rejected):
    """The event does not continue the chain the hub holds (a terminal restored from a backup).

    Its rejection tells the terminal the hub's head so it can re-chain its unsent events
    after it (docs/protocol.md, "Forks"); the events keep their ids, so nothing doubles.
    """
