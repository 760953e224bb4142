"""Inbox search on both databases: substrings in every script, through the index where the
database has one (PostgreSQL's pg_trgm GIN on the folded search text)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chorus.inbox import ingest, selectors
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


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("กาแฟอร่อยมาก", "som@x"),  # Thai, a run of three words
        ("ចូលចិត្ត", "dara@x"),  # Khmer
        ("Սուրճը Հիանալի", "ani@x"),  # Armenian, mixed case, two words
        ("BeAnS ARRIVED", "ana@x"),  # mixed case
        ("ni", "juma@x"),  # two characters: no trigram, the scan answers
        ("กา", "som@x"),
        ("ni NZURI", "juma@x"),  # a short word and a long one
    ],
)
def test_short_and_mixed_case_searches(owner, stored, query, who):
    assert found(owner, query) == {who}


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the FTS5 trigram index is SQLite's"
)


def indexed(word: str) -> set[int]:
    """Conversation ids the FTS5 table itself holds `word` for (no LIKE after it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM inbox_conversation_fts WHERE inbox_conversation_fts MATCH %s",
            [f'"{word}"'],
        )
        return {row[0] for row in cursor.fetchall()}


def index_agrees_with_table() -> None:
    """FTS5's own check that the index holds exactly the rows' text (raises if not)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_conversation_fts(inbox_conversation_fts, rank)"
            " VALUES ('integrity-check', 1)"
        )


@sqlite_only
def test_sqlite_keeps_the_triggers_that_feed_the_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'inbox_conversation'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {f"inbox_conversation_fts_{event}" for event in ("insert", "update", "delete")} <= names


@sqlite_only
def test_sqlite_answers_search_from_the_trigram_index(owner, stored):
    def asked(query: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            list(conversations(owner, InboxFilters(status="any", query=query)))
        return [q["sql"] for q in queries.captured_queries]

    sql = asked("อร่อย")
    assert "inbox_conversation_fts" in sql[-1]  # the list itself is narrowed by the index
    assert not any("inbox_conversation_fts" in q for q in asked("กา"))


@sqlite_only
def test_sqlite_a_word_in_many_conversations_walks_the_list_with_the_same_result(
    owner, stored, monkeypatch
):
    monkeypatch.setattr(selectors, "FTS_DENSE", 0)  # every match counts as "many"
    with CaptureQueriesContext(connection) as queries:
        assert found(owner, "อร่อย") == {"som@x"}
    assert "inbox_conversation_fts" not in queries.captured_queries[-1]["sql"]


@sqlite_only
def test_sqlite_index_follows_new_messages_edits_and_deletes(owner, stored, account):
    som = Conversation.objects.get(contact__handle="som@x")
    assert indexed("อร่อย") == {som.pk}
    ingest.store_page(account, page(item(6, text="ส่งของช้ามาก", author="som@x")), now=timezone.now())
    som.refresh_from_db()
    assert "ส่งของช้า" in som.search_text  # the same conversation, its text grown
    assert found(owner, "ส่งของช้า") == {"som@x"}
    index_agrees_with_table()

    som.search_text = search_form("Kahawa baridi")
    som.save()
    assert indexed("อร่อย") == set()
    assert found(owner, "baridi") == {"som@x"}
    assert found(owner, "อร่อย") == set()
    index_agrees_with_table()

    som.delete()
    assert indexed("baridi") == set()
    assert found(owner, "kahawa") == {"juma@x"}
    index_agrees_with_table()


@pytest.mark.parametrize("query", ['"beans', 'be"ans* OR', "NEAR(beans arrived)", "-roken", "^the"])
def test_search_operators_are_plain_text(owner, stored, query):
    # FTS5 would read these as its own syntax (or refuse them): each word is a quoted
    # phrase, so they are searched as written, and nobody wrote them
    assert found(owner, query) == set()
    assert found(owner, f"{query} zzz") == set()
