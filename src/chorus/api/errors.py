"""One JSON shape for every API error: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from chorus.core.errors import ServiceError


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _field_name(location: list) -> str:
    parts = [str(p) for p in location if p not in {"body", "query", "path", "payload"}]
    return ".".join(parts) or "__all__"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        fields = {exc.field: [exc.message]} if exc.field else None
        return api.create_response(
            request, error_body(exc.code, exc.message, fields), status=exc.status
        )

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields: dict[str, list[str]] = {}
        for item in exc.errors:
            fields.setdefault(_field_name(item.get("loc", [])), []).append(item.get("msg", ""))
        body = error_body("validation_error", _("Some fields are not valid."), fields)
        return api.create_response(request, body, status=422)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request, exc):
        body = error_body("not_authenticated", _("Send a valid API token or sign in."))
        return api.create_response(request, body, status=401)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {403: "permission_denied", 404: "not_found", 429: "throttled"}.get(
            exc.status_code, "error"
        )
        return api.create_response(request, error_body(code, str(exc)), status=exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        message = str(exc) or _("Your role does not allow this.")
        return api.create_response(request, error_body("permission_denied", message), status=403)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc):
        from django.conf import settings

        message = _(
            "The request body is larger than %(limit)s MB; send files as multipart uploads."
        ) % {"limit": round(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000, 1)}
        return api.create_response(request, error_body("too_large", message), status=413)

    @api.exception_handler(TooManyFieldsSent)
    @api.exception_handler(TooManyFilesSent)
    def too_many_parts(request, exc):
        message = _("The request has too many fields or files.")
        return api.create_response(request, error_body("too_large", message), status=413)

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        message = _("The request could not be read.")
        return api.create_response(request, error_body("invalid", message), status=400)
