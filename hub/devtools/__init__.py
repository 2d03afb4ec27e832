"""Tools for developers, not the running hub: the simulator and the screenshot stories."""
