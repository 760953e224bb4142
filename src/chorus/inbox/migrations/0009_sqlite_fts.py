"""A trigram full-text index on the folded search text, on SQLite only.

The inbox search is a substring match over text folded by chorus.text (see
`inbox.selectors.conversations`). PostgreSQL answers it from the pg_trgm index of `0006`;
SQLite scanned every filtered row. This adds an external-content FTS5 table with the
`trigram` tokenizer (SQLite >= 3.34): it indexes every run of three characters, so a Thai or
Khmer word inside an unspaced sentence is found without word segmentation. `case_sensitive 1`:
both the stored text and the query are already folded by chorus.text, so the index must not
fold again by rules of its own. Triggers keep it in step with every insert, update of the
search text (the poller's bulk UPDATEs included) and delete; existing rows are indexed here.

A later migration that makes SQLite rebuild `inbox_conversation` (Django copies the table and
drops the old one) drops these triggers: tests/inbox/test_search.py checks they exist.
"""

from django.db import migrations

TABLE = "inbox_conversation_fts"
CREATE = [
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(search_text, content='inbox_conversation',"
    " content_rowid='id', tokenize='trigram case_sensitive 1')",
    f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON inbox_conversation BEGIN"
    f" INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON inbox_conversation BEGIN"
    f" INSERT INTO {TABLE}({TABLE}, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF search_text ON inbox_conversation"
    " WHEN old.search_text IS NOT new.search_text BEGIN"
    f" INSERT INTO {TABLE}({TABLE}, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text);"
    f" INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')",
]
DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return  # PostgreSQL has its pg_trgm index (0006)
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0008_conversations_by_time")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
