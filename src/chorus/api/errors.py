"""One JSON shape for every API error: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from chorus.core.errors import ServiceError

logger = logging.getLogger(__name__)

# The error answers every operation may give, documented in the OpenAPI schema.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
ERRORS = {
    "400": "invalid: the request breaks a rule (the message says which; `fields` names the input)",
    "401": "not_authenticated: no valid token and no signed-in session",
    "403": "permission_denied: the token lacks the scope, or your role does not allow this",
    "404": "not_found: no such object in this workspace (or one the body names)",
    "409": "conflict: the request clashes with the current state",
    "413": "too_large: the request body is over the limit (send files as multipart uploads)",
    "422": "validation_error: an input is missing, malformed or out of range; see `fields`",
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers and their shape to every operation of an OpenAPI schema."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(code, {"description": description, "content": content})
    return schema


class ChorusAPI(NinjaAPI):
    """Django Ninja's API object with the error answers documented on every operation."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_errors(schema)


class UnstorableText(ValueError):
    """Text in a JSON body that no database can store; names where it was found."""

    def __init__(self, location: list[str]):
        super().__init__(".".join(location) or "__all__")
        self.location = location


class UnpairedSurrogate(UnstorableText):
    """A lone UTF-16 surrogate (`"\\ud800"` in JSON): not storable, not sendable."""


class NulCharacter(UnstorableText):
    """A NUL (`"\\u0000"` in JSON): PostgreSQL cannot store it and Django's forms refuse it,
    so the API answers as the forms do, on every database."""


def _check_text(value: Any, location: list[str]) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UnpairedSurrogate(location) from exc
        if "\x00" in value:
            raise NulCharacter(location)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, location)
            _check_text(item, [*location, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, [*location, str(index)])


class TextParser(Parser):
    """JSON bodies, refusing text that is not valid Unicode (lone surrogates)."""

    def parse_body(self, request):
        data = json.loads(request.body)
        _check_text(data, [])
        return data


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
        if isinstance(exc.__cause__, UnpairedSurrogate):
            message = _("This text contains an invalid character (an unpaired surrogate).")
            body = error_body("validation_error", message, {str(exc.__cause__): [message]})
            return api.create_response(request, body, status=422)
        if isinstance(exc.__cause__, NulCharacter):
            message = _("This text contains an invalid character (a NUL character).")
            body = error_body("validation_error", message, {str(exc.__cause__): [message]})
            return api.create_response(request, body, status=422)
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            message = _("The request body is not valid JSON.")
            return api.create_response(request, error_body("invalid", message), status=400)
        code = {
            400: "invalid",
            403: "permission_denied",
            404: "not_found",
            409: "conflict",
            429: "throttled",
        }.get(exc.status_code, "error")
        return api.create_response(request, error_body(code, str(exc)), status=exc.status_code)

    @api.exception_handler(ObjectDoesNotExist)
    def vanished(request, exc):
        # e.g. a row deleted by someone else while this request was changing it
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(DataError)
    def out_of_range(request, exc):
        logger.warning("API input the database refused: %s", exc)
        message = _("A value is out of range.")
        return api.create_response(request, error_body("invalid", message), status=400)

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        message = _("Something went wrong on our side; nothing was changed by this request.")
        return api.create_response(request, error_body("server_error", message), status=500)

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
