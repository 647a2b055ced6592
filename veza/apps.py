from django.apps import AppConfig


class VezaConfig(AppConfig):
    """The project package as an app: the shared toolkit's template tags and the commands
    that orchestrate every app (``seed``)."""

    name = "veza"
    verbose_name = "Veza"

    def ready(self) -> None:
        from veza import events

        events.recorder()  # no recorder, no start: an event is never silently dropped
