"""Indexes for the admin's user search (``veza.admin_search``): email, username and display
name by their first characters in any case — and every list that searches by a buyer's,
seller's, requester's or actor's email or username reaches the users through these."""

from django.db import migrations

from veza.admin_search import search_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY
    dependencies = [("accounts", "0006_user_profile_taken_down_at_and_more")]

    operations = [
        search_indexes(
            ("accounts_user_email_upper_idx", "accounts_user", "UPPER(email) text_pattern_ops"),
            (
                "accounts_user_username_upper_idx",
                "accounts_user",
                "UPPER(username) text_pattern_ops",
            ),
            (
                "accounts_user_display_name_upper_idx",
                "accounts_user",
                "UPPER(display_name) text_pattern_ops",
            ),
        )
    ]
