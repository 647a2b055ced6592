from django.apps import AppConfig


class DeveloperConfig(AppConfig):
    name = "developer"
    verbose_name = "Developer platform"

    def ready(self) -> None:
        # The domain apps emit events through veza.events without knowing this app.
        # veza.events loads developer.outbox.record_event by name (EVENT_RECORDER).
        from developer import openapi  # noqa: F401 - registers the Api-Key scheme
