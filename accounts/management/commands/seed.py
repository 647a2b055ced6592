"""``python manage.py seed``: a demo world built through the real services, idempotent."""

import importlib

from django.core.management.base import BaseCommand
from tqdm import tqdm

# Each app that seeds demo data has a ``seed.py`` with ``STEPS``: a list of
# ``(label, callable(scale: int) -> None)``, run in this app order. Every step is idempotent.
SEEDING_APPS = ["accounts", "tracks", "playlists", "marketplace", "payments"]


def collect_steps() -> list[tuple[str, object]]:
    steps = []
    for app in SEEDING_APPS:
        try:
            module = importlib.import_module(f"{app}.seed")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.seed":
                raise
            continue
        steps.extend(getattr(module, "STEPS", []))
    return steps


class Command(BaseCommand):
    help = "Create (or complete) the demo data set. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply the generated volume (bulk inserts) for benchmarks.",
        )

    def handle(self, *args, scale: int, **options):
        steps = collect_steps()
        with tqdm(total=len(steps), desc="seeding", unit="step", file=self.stdout) as bar:
            for label, step in steps:
                bar.set_postfix_str(label)
                step(scale=scale)
                bar.update(1)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
