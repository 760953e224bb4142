"""Uploads stream to disk and stop at a size cap, so a huge file never fills memory or disk.

`CappedUploadHandler` writes every uploaded file to a temporary file (Django's own
handler) and, once a file passes `CHORUS_UPLOAD_MAX_BYTES`, drops it and skips the rest
of its bytes; `upload_too_large(request, field)` then tells the view or API handler, which
answers with a clear message instead of "choose a file".
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

REFUSED_ATTRIBUTE = "chorus_uploads_too_large"


class CappedUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, field_name, *args, **kwargs):
        self.received = 0
        super().new_file(field_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.CHORUS_UPLOAD_MAX_BYTES:
            refused = getattr(self.request, REFUSED_ATTRIBUTE, set())
            refused.add(self.field_name)
            setattr(self.request, REFUSED_ATTRIBUTE, refused)
            raise SkipFile
        return super().receive_data_chunk(raw_data, start)


def upload_too_large(request, field: str) -> bool:
    """Whether the file sent as `field` was dropped for passing the size cap."""
    request.FILES  # noqa: B018  (parse the body first: the handler records what it dropped)
    return field in getattr(request, REFUSED_ATTRIBUTE, set())


def upload_limit_megabytes() -> int:
    return settings.CHORUS_UPLOAD_MAX_BYTES // 1_000_000
