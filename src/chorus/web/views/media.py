"""The media library: uploads from the composer and files served to members."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.core.uploads import upload_limit_megabytes, upload_too_large
from chorus.networks.media_links import read_media_token
from chorus.publishing import media
from chorus.publishing.media import EXTENSIONS, SERVABLE_TYPES
from chorus.publishing.models import MediaAsset
from chorus.web.views.common import member_required, public

# A served file may not run script, load anything, submit forms or be framed, even if a
# browser were to render it as a document (GitHub's raw files use the same policy).
MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# With CHORUS_MEDIA_URL (a separate origin for user media), members' requests for a file are
# redirected there with a signed link that opens that one file for a day.
MEDIA_LINK_SALT = "chorus.media-link"
MEDIA_LINK_MAX_AGE = 24 * 3600


@member_required(Capability.CREATE_POSTS)
@require_POST
def media_upload(request):
    """Add a file to the library (htmx); answers with its tile, already attached.

    A refusal answers 200 with the message retargeted to the composer's upload status
    (htmx swaps no error responses), and 422 to anything that is not htmx.
    """
    try:
        if upload_too_large(request, "upload"):
            raise ServiceError(
                _("This file is larger than %(limit)s MB, more than any network takes.")
                % {"limit": upload_limit_megabytes()},
                code="too_large",
                field="upload",
            )
        asset = media.media_asset_create(
            actor=request.membership,
            upload=request.FILES.get("upload"),
            alt_text=request.POST.get("upload_alt", ""),
        )
    except ServiceError as exc:
        body = format_html('<p class="errorlist" role="alert">{}</p>', exc.message)
        if request.headers.get("HX-Request"):
            response = HttpResponse(body)
            response["HX-Retarget"] = "#upload-status"
            response["HX-Reswap"] = "innerHTML"
            return response
        return HttpResponse(body, status=422 if exc.status == 400 else exc.status)
    return render(
        request,
        "publishing/_media_item.html",
        {"item": {"asset": asset, "chosen": True, "alt": asset.alt_text}},
    )


@member_required()
@require_GET
def media_file(request, asset_id: int):
    """A library file, to members of its workspace only, never as a page of our origin.

    It is served with the type checked at upload, `nosniff`, and a sandboxing
    Content-Security-Policy; a file stored before uploads were checked (any other type)
    is only offered as a download.
    """
    asset = MediaAsset.objects.filter(workspace=request.membership.workspace, pk=asset_id).first()
    if asset is None or not asset.file or not asset.file.storage.exists(asset.file.name):
        raise Http404(_("No such file."))
    if settings.CHORUS_MEDIA_URL:
        token = signing.dumps(asset.pk, salt=MEDIA_LINK_SALT)
        response = HttpResponseRedirect(f"{settings.CHORUS_MEDIA_URL}/media/{asset.pk}/{token}/")
        response["Cache-Control"] = "private, max-age=3600"
        return response
    return _serve(asset)


@public
@require_GET
def media_file_signed(request, asset_id: int, token: str):
    """A file on the separate media origin, opened by the signed link `media_file` made."""
    try:
        signed_id = signing.loads(token, salt=MEDIA_LINK_SALT, max_age=MEDIA_LINK_MAX_AGE)
    except signing.BadSignature:
        raise Http404(_("This link has expired or is not valid.")) from None
    asset = MediaAsset.objects.filter(pk=asset_id).first() if signed_id == asset_id else None
    if asset is None or not asset.file or not asset.file.storage.exists(asset.file.name):
        raise Http404(_("No such file."))
    return _serve(asset)


@public
@require_GET
def media_file_for_network(request, token: str, filename: str):
    """A file a network fetches itself (Instagram), by the signed, expiring link
    `chorus.networks.media_links` made: that one stored file, and only while its bytes are
    the ones the link was made for."""
    named = read_media_token(token)
    if named is None or named[0] != filename:
        raise Http404(_("This link has expired or is not valid."))
    asset = MediaAsset.objects.filter(file__endswith=f"/{filename}").first()
    if asset is None or not asset.file or not asset.file.storage.exists(asset.file.name):
        raise Http404(_("No such file."))
    digest = hashlib.sha256()
    with asset.file.open("rb") as stored:
        for chunk in iter(lambda: stored.read(1 << 20), b""):
            digest.update(chunk)
    if not hmac.compare_digest(digest.hexdigest(), named[1]):
        raise Http404(_("No such file."))
    response = _serve(asset)
    response["Cache-Control"] = "private, no-store"
    return response


def _serve(asset: MediaAsset) -> FileResponse:
    servable = asset.mime_type in SERVABLE_TYPES
    response = FileResponse(
        asset.file.open("rb"),
        content_type=asset.mime_type if servable else "application/octet-stream",
        as_attachment=not servable,
        filename=f"chorus-media-{asset.pk}.{EXTENSIONS.get(asset.mime_type, 'bin')}",
    )
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response
