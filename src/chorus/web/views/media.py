"""The media library: uploads from the composer and files served to members."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.publishing import services
from chorus.publishing.models import (
    MediaAsset,
)
from chorus.web.views.common import member_required


@member_required(Capability.CREATE_POSTS)
@require_POST
def media_upload(request):
    """Add a file to the library (htmx); answers with its tile, already attached."""
    upload = request.FILES.get("upload")
    try:
        asset = services.media_asset_create(
            actor=request.membership,
            upload=upload,
            alt_text=request.POST.get("upload_alt", ""),
        )
    except ServiceError as exc:
        return HttpResponse(
            format_html('<p class="errorlist" role="alert">{}</p>', exc.message), status=400
        )
    return render(
        request,
        "publishing/_media_item.html",
        {"item": {"asset": asset, "chosen": True, "alt": asset.alt_text}},
    )


@member_required()
@require_GET
def media_file(request, asset_id: int):
    """A library file, to members of its workspace only."""
    asset = MediaAsset.objects.filter(workspace=request.membership.workspace, pk=asset_id).first()
    if asset is None or not asset.file or not asset.file.storage.exists(asset.file.name):
        raise Http404(_("No such file."))
    response = FileResponse(asset.file.open("rb"), content_type=asset.mime_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
