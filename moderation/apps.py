from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Trust and safety (reports, decisions, appeals)"

    def ready(self) -> None:
        # tracks never imports moderation: it asks the checks registered here whether an
        # upload may be stored (a recording taken down for copyright may not come back).
        from moderation import fingerprints
        from tracks.selectors import register_upload_check

        register_upload_check(fingerprints.refuse_blocked_upload)
