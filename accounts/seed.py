"""Demo users: one per role, password ``veza-demo-password``; an admin that is also staff."""

from accounts.models import Role, User

DEMO_PASSWORD = "veza-demo-password"


# Where the demo buyers live: their orders carry that country's VAT (the demo listener buys
# from Germany, everyone else from France).
DEMO_COUNTRIES = {Role.USER: "DE"}


def seed_users(scale: int = 1) -> None:
    for role in Role:
        username = f"demo_{role.value}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@veza.local",
                "role": role,
                "display_name": f"Demo {role.label}",
                "email_verified": True,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "country": DEMO_COUNTRIES.get(role, "FR"),
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    extra_buyers = 10 * (scale - 1)
    if extra_buyers > 0:
        existing = set(
            User.objects.filter(username__startswith="demo_buyer_").values_list(
                "username", flat=True
            )
        )
        User.objects.bulk_create(
            [
                User(
                    username=f"demo_buyer_{i}",
                    email=f"demo_buyer_{i}@veza.local",
                    password="!",  # unusable: bulk accounts cannot log in
                    display_name=f"Buyer {i}",
                )
                for i in range(extra_buyers)
                if f"demo_buyer_{i}" not in existing
            ],
            batch_size=1000,
        )


STEPS = [("users", seed_users)]
