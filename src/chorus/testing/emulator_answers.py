"""Answers the emulator sends as text rather than JSON; shared by every network's routes."""

from __future__ import annotations


class PlainText(str):
    """An answer sent as text/plain rather than JSON."""

    content_type = b"text/plain; charset=utf-8"


class HtmlPage(PlainText):
    """An answer sent as an HTML page (a network's sign-in or consent page)."""

    content_type = b"text/html; charset=utf-8"
