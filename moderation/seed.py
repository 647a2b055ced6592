"""Demo trust and safety: a moderator (staff, group Moderation, password of the demo users;
not a ``demo_`` username, which would give it demo playlists on the next run)
and two open reports on demo tracks, so that the queue has something to show."""

from accounts.models import User
from accounts.seed import DEMO_PASSWORD
from moderation import services
from moderation.models import Category, Report, TargetType
from tracks.models import Track


def seed_moderation(scale: int = 1) -> None:
    moderator, created = User.objects.get_or_create(
        username="staff_moderator",
        defaults={
            "email": "demo_moderator@veza.local",
            "display_name": "Demo Moderator",
            "email_verified": True,
            "is_staff": True,
        },
    )
    if created:
        moderator.set_password(DEMO_PASSWORD)
        moderator.save(update_fields=["password"])
    moderator.groups.add(services.moderation_group())
    if Report.objects.exists():
        return
    tracks = list(
        Track.objects.filter(is_public=True, status=Track.Status.READY).order_by("created_at")[:2]
    )
    listener = User.objects.filter(username="demo_user").first()
    notices = [
        {
            "category": Category.COPYRIGHT,
            "description": "This is our label's recording, uploaded without a licence.",
            "reporter_email": "rights@label.example",
            "reporter_name": "Label Ltd rights team",
            "copyright": {
                "work_title": "Night Drive (original mix)",
                "rights_holder": "Label Ltd",
                "original_url": "https://label.example/night-drive",
            },
        },
        {
            "category": Category.SPAM,
            "description": "The description advertises a pirate download site.",
            "reporter": listener,
        },
    ]
    for track, notice in zip(tracks, notices, strict=False):
        services.submit_report(
            reporter=notice.pop("reporter", None),
            target_type=TargetType.TRACK,
            target_id=track.pk,
            **notice,
        )


STEPS = [("moderation", seed_moderation)]
