"""Member Kiosk: the terminal side of the self-checkout and membership appliance."""

__version__ = "0.1.0"
