"""Chorus: self-hosted social media management for teams."""

__version__ = "0.1.0"
