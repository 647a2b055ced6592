"""The trigram indexes of ``?q=`` take each new track at once (GIN ``fastupdate = off``).

With GIN's default, new entries wait in a pending list that every search reads through
linearly until VACUUM (or 4 MB of them) merges it: after a bulk load of a million tracks a
search read ~1,100 buffers in 12 ms; merged, 28 buffers in 0.3 ms (EXPLAIN ANALYZE, bench
database). Tracks are written seldom and searched often, so each insert pays its own merge.
"""

from django.db import migrations

INDEXES = ["track_title_trgm_idx", "track_artist_trgm_idx", "track_album_trgm_idx"]


def merge_at_once(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} SET (fastupdate = off)")
        # What already waits in the pending list is merged now.
        schema_editor.execute("SELECT gin_clean_pending_list(to_regclass(%s))", [index])


def back_to_pending_lists(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("tracks", "0003_like_count_and_list_indexes")]

    operations = [migrations.RunPython(merge_at_once, back_to_pending_lists)]
