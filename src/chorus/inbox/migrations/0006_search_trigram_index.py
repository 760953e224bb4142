"""A trigram index on the folded search text, on PostgreSQL only.

The inbox search is a substring match (`search_text LIKE '%word%'`, see
`inbox.selectors.conversations`): it must find Thai and Khmer words inside unspaced
sentences, so no word tokenizer can serve it. pg_trgm's GIN index answers LIKE with any
pattern of three characters or more from the index (multibyte letters included: trigrams of
Thai and Khmer are hashed), so a search over a million conversations reads only the rows
that hold every trigram of the words. SQLite keeps its scan of the filtered rows.
"""

from django.db import migrations

INDEX = "inbox_search_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON inbox_conversation "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_business_hours_and_target_warnings")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
