"""``python manage.py seed``: a demo world built through the real services, idempotent."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from accounts import seed as accounts_seed
from marketplace import seed as marketplace_seed
from moderation import seed as moderation_seed
from payments import seed as payments_seed
from playlists import seed as playlists_seed
from tracks import seed as tracks_seed

# Each app that seeds demo data has a ``seed.py`` with ``STEPS``: a list of
# ``(label, callable(scale: int) -> None)``, run in this order (users, then what they make,
# then what they buy). Every step is idempotent. This command lives in ``veza`` because it is
# the only place allowed to know every app.
SEEDING_MODULES = [
    accounts_seed,
    tracks_seed,
    playlists_seed,
    marketplace_seed,
    payments_seed,
    moderation_seed,
]


def collect_steps() -> list[tuple[str, object]]:
    return [step for module in SEEDING_MODULES for step in module.STEPS]


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
