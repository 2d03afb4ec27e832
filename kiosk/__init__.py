"""Member Kiosk: the terminal side of the self-checkout and membership appliance."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The installed distribution's version: after an update it is the version the venv runs.
    __version__ = version("member-kiosk")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.1.0"
