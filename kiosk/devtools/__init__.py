"""Tools that run real components for the demo and the tests: a private Mosquitto, Xvfb."""
