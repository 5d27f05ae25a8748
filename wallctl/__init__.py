"""wallctl: video wall and alarm annunciator for command centers."""

__version__ = "0.1.0"
