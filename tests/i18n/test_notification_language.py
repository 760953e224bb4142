"""A notice (and its e-mail) reaches each person in their own language, whoever caused it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext as _

from chorus.accounts.services import notify

pytestmark = pytest.mark.django_db


def test_a_notice_is_written_in_the_recipients_language(
    make_member, django_capture_on_commit_callbacks
):
    owner = make_member("owner")
    author = make_member("contributor", workspace=owner.workspace)
    author.user.language = "km"
    author.user.save()

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        note = notify(
            user=author.user,
            workspace=owner.workspace,
            message=lambda: (
                _("Your post to %(handle)s failed: %(error)s")
                % {"handle": "@tea@example.org", "error": "HTTP 500"}
            ),
        )
        assert translation.get_language() == "en"  # the actor's language is left alone

    assert note.message == "ប៉ុស្តិ៍របស់អ្នកទៅ @tea@example.org បរាជ័យ៖ HTTP 500"
    (sent,) = mail.outbox
    assert note.message in sent.body
    assert sent.to == [author.user.email]


def test_a_finished_text_is_kept_as_given(make_member):
    owner = make_member("owner")
    owner.user.language = "th"
    note = notify(
        user=owner.user, workspace=owner.workspace, message="Already written", email=False
    )
    assert note.message == "Already written"
