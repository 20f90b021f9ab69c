"""aar: teams of automated alignment researchers."""

__version__ = "0.1.0"
