"""Helpers shared by views: the membership guard and service-error display."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import NotAllowed, NotFound, ServiceError

# Every view declares who may open it: `access_rule` is read by the permission-matrix test
# (tests/governance/test_permission_matrix.py), where a view without one fails.
PUBLIC = "public"
SIGNED_IN = "signed_in"


def public(view):
    """Open to anyone, signed in or not (sign-in, sign-up, invitation links...)."""
    view.access_rule = PUBLIC
    return view


def signed_in_required(view):
    """Signed in; no workspace or role needed (create or switch a workspace)."""
    guarded = login_required(view)
    guarded.access_rule = SIGNED_IN
    return guarded


def member_required(capability: Capability = Capability.VIEW_WORKSPACE):
    """Signed in, in a workspace, and with a role that has `capability`."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.membership is None:
                return redirect("workspace_new")
            if not role_can(request.membership.role, capability):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc

        wrapped.access_rule = capability
        return wrapped

    return decorator


def show_service_error(form: forms.Form, error: ServiceError) -> None:
    """Put a service's refusal on the field it names (or on the whole form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
