"""The kiosk's flows: what happens between screens, kept out of :mod:`kiosk.app`."""
