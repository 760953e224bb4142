"""Inbox search on both databases: substrings in every script, through the index where the
database has one (PostgreSQL's pg_trgm GIN on the folded search text)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.analysis import search_form
from chorus.inbox.models import Conversation
from chorus.inbox.selectors import InboxFilters, conversations
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(account):
    ingest.store_page(
        account,
        page(
            item(1, text="The beans arrived broken", author="ana@x"),
            item(2, text="วันนี้กาแฟอร่อยมากครับขอบคุณ", author="som@x"),
            item(3, text="ខ្ញុំចូលចិត្ត\u200bកាហ្វេនេះណាស់", author="dara@x"),
            item(4, text="Սուրճը հիանալի է", author="ani@x"),
            item(5, text="Kahawa hii ni nzuri sana", author="juma@x"),
        ),
        now=timezone.now(),
    )


def found(owner, query: str) -> set[str]:
    filters = InboxFilters(status="any", query=query)
    return {c.contact.handle for c in conversations(owner, filters).select_related("contact")}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("อร่อย", "som@x"),  # inside an unspaced Thai sentence
        ("กาแฟ อร่อย", "som@x"),  # both words, anywhere
        ("កាហ្វេ", "dara@x"),  # Khmer, across a zero-width space
        ("ចិត្តកា", "dara@x"),  # a substring spanning two Khmer words
        ("ՀԻԱՆԱԼԻ", "ani@x"),  # Armenian, case folded
        ("NZURI", "juma@x"),
        ("roken", "ana@x"),
    ],
)
def test_substrings_are_found_in_every_script(owner, stored, query, who):
    assert found(owner, query) == {who}


def test_a_word_nobody_wrote_finds_nothing(owner, stored):
    assert found(owner, "อร่อยมากมาก") == set()
    assert found(owner, "ខ្ញុំអត់") == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_postgresql_answers_search_from_the_trigram_index(owner, stored):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'inbox_search_trgm'")
        (definition,) = cursor.fetchone()
        assert "gin_trgm_ops" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned
        # the selector's lookup, as Django writes it, can be answered by the index
        plan = Conversation.objects.filter(search_text__contains=search_form("อร่อย")).explain()
    assert "inbox_search_trgm" in plan
