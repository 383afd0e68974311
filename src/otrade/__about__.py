"""Version of the otrade distribution."""

__version__ = "0.1.0"
