import factory
from django.contrib.auth.hashers import make_password
from factory.django import DjangoModelFactory

from accounts.models import Role, User

DEFAULT_PASSWORD = "Correct-Horse-42!"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    role = Role.USER
    email_verified = True
    # Hashed before the INSERT: a set_password() + save() afterwards would be a password
    # change, which revokes tokens (token_version 1 for every new user).
    password = factory.LazyFunction(lambda: make_password(DEFAULT_PASSWORD))


class CreatorFactory(UserFactory):
    role = Role.CREATOR


class AdminFactory(UserFactory):
    role = Role.ADMIN
