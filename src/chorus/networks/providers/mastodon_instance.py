"""What a Mastodon-API server says about itself: the per-server `Limits` values in its
instance document (v2 `configuration`, v1, or the older Pleroma-style spellings)."""

from __future__ import annotations

from typing import Any


def _count(value: Any) -> int | None:
    """A positive whole number from an instance document (some servers send strings)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def server_values(instance: dict[str, Any]) -> dict[str, Any]:
    """The per-server `Limits` values an instance document gives (v2, v1 or Pleroma-style);
    missing and 0 values are left out."""

    def section(parent: Any, key: str) -> dict[str, Any]:
        value = parent.get(key) if isinstance(parent, dict) else None
        return value if isinstance(value, dict) else {}

    config = section(instance, "configuration")
    statuses, media = section(config, "statuses"), section(config, "media_attachments")
    polls, old_polls = section(config, "polls"), section(instance, "poll_limits")
    upload = instance.get("upload_limit")
    values = {
        "max_text": _count(statuses.get("max_characters"))
        or _count(instance.get("max_toot_chars")),
        "url_length": _count(statuses.get("characters_reserved_per_url")),
        "max_media": _count(statuses.get("max_media_attachments")),
        "max_image_bytes": _count(media.get("image_size_limit")) or _count(upload),
        "max_video_bytes": _count(media.get("video_size_limit")) or _count(upload),
        "max_alt_text": _count(media.get("description_limit"))
        or _count(instance.get("description_limit")),
        "max_poll_options": _count(polls.get("max_options"))
        or _count(old_polls.get("max_options")),
        "max_poll_option_length": _count(polls.get("max_characters_per_option"))
        or _count(old_polls.get("max_option_chars")),
    }
    types = media.get("supported_mime_types")
    if isinstance(types, list) and types and all(isinstance(t, str) for t in types):
        values["media_types"] = list(types)
    return {name: value for name, value in values.items() if value is not None}
