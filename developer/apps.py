from django.apps import AppConfig


class DeveloperConfig(AppConfig):
    name = "developer"
    verbose_name = "Developer platform"

    def ready(self) -> None:
        # The domain apps emit events through veza.events without knowing this app.
        from developer import openapi  # noqa: F401 - registers the Api-Key scheme
        from developer.outbox import record_event
        from veza.events import register_recorder

        register_recorder(record_event)
