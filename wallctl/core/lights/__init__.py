"""Beacons, stack lights and relays that follow the annunciator: their configuration (``outputs:``, ``lights:``),
which pattern each channel shows, and the rhythm of a flash. Pure: the drivers are ``wallctl.adapters.outputs``."""
