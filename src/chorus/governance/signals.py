"""Django's sign-in signals feed the audit log, the throttle and the session register.

Receivers only translate the signal into one service call; the rules live in services.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from chorus.governance import context as request_context
from chorus.governance import services


@receiver(user_logged_in, dispatch_uid="governance.login")
def on_login(sender, request, user, **kwargs):
    session = getattr(request, "session", None) if request is not None else None
    key = session.session_key if session is not None else None
    services.login_succeeded(user=user, session_key=key)
    if key:
        session[request_context.SESSION_TRACKED_KEY] = key


@receiver(user_login_failed, dispatch_uid="governance.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = credentials.get("username") or credentials.get("email") or ""
    ip_address = request_context.client_ip(request) if request is not None else ""
    admitted = getattr(request, "chorus_login_attempt", None) is not None
    services.login_failure_record(email=email, ip_address=ip_address, admitted=admitted)


@receiver(user_logged_out, dispatch_uid="governance.logout")
def on_logout(sender, request, user, **kwargs):
    session = getattr(request, "session", None) if request is not None else None
    services.logout_recorded(user=user, session_key=session.session_key if session else None)
