from django.contrib.auth.password_validation import validate_password
from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.models import Role, Session, User
from veza.countries import ACCEPTED_CODES, country_code
from veza.serializers import CachedFieldsMixin, JSONInput

username_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]{3,30}$",
    "3 to 30 characters: letters, digits, underscore, dot or hyphen.",
    code="invalid_username",
)


AVATAR_URL_HELP = 'An http(s) URL, or "" when the user set none.'


class UserOutput(serializers.ModelSerializer):
    """The user as seen by itself (or an admin): includes the email."""

    # Not `format: uri`: the column is blank (not null) when there is no avatar.
    avatar_url = serializers.CharField(read_only=True, help_text=AVATAR_URL_HELP)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "display_name",
            "bio",
            "avatar_url",
            "role",
            "email_verified",
            "country",
            "deletion_scheduled_for",
            "created_at",
        ]
        read_only_fields = fields


class SessionOutput(CachedFieldsMixin, serializers.ModelSerializer):
    """A sign-in session; `current` is the one the request's token belongs to."""

    current = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = ["id", "created_at", "last_used_at", "ip", "user_agent", "current"]
        read_only_fields = fields

    def get_current(self, session: Session) -> bool:
        return str(session.pk) == self.context.get("current_session_id")


class PublicUserOutput(serializers.ModelSerializer):
    """A public profile: never the email."""

    avatar_url = serializers.CharField(read_only=True, help_text=AVATAR_URL_HELP)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "bio", "avatar_url", "role", "created_at"]
        read_only_fields = fields


class UserRefOutput(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class RegisterInput(JSONInput):
    email = serializers.EmailField(max_length=254)
    username = serializers.CharField(validators=[username_validator])
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)

    def validate_email(self, value: str) -> str:
        value = value.strip().lower()
        if User.objects.filter(email=value).exists():
            raise serializers.ValidationError("This email is already registered.", code="taken")
        return value

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.", code="taken")
        return value

    def validate(self, attrs):
        candidate = User(email=attrs["email"], username=attrs["username"])
        try:
            validate_password(attrs["password"], candidate)
        except Exception as exc:  # django ValidationError → field error
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class LoginInput(JSONInput):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthOutput(TokenPairOutput):
    user = UserOutput()


class RefreshInput(JSONInput):
    refresh = serializers.CharField()


class TokenInput(JSONInput):
    token = serializers.CharField(max_length=1024)


class ResetRequestInput(JSONInput):
    email = serializers.EmailField(max_length=254)


class ResetInput(JSONInput):
    token = serializers.CharField(max_length=1024)
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class UsernameQuery(serializers.Serializer):
    username = serializers.CharField(validators=[username_validator])


class AvailabilityOutput(serializers.Serializer):
    available = serializers.BooleanField()


class MessageOutput(serializers.Serializer):
    detail = serializers.CharField()


class UserUpdateInput(JSONInput):
    username = serializers.CharField(required=False, validators=[username_validator])
    display_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    avatar_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    role = serializers.ChoiceField(required=False, choices=Role.choices)
    country = serializers.ChoiceField(
        choices=ACCEPTED_CODES,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='ISO 3166-1 alpha-2 (e.g. DE; lower case accepted), or null/"" to clear: '
        "where VAT is due when an order names no billing_country.",
    )

    def validate_country(self, value: str | None) -> str | None:
        if not value:
            return None
        code = country_code(value)
        if code is None:
            raise serializers.ValidationError(
                "Not an ISO 3166-1 alpha-2 country code.", code="invalid_country"
            )
        return code

    def validate_username(self, value: str) -> str:
        user = self.context["user"]
        if User.objects.filter(username__iexact=value).exclude(pk=user.pk).exists():
            raise serializers.ValidationError("This username is taken.", code="taken")
        return value


class CompletionOutput(serializers.Serializer):
    percentage = serializers.IntegerField(min_value=0, max_value=100)
    missing = serializers.ListField(child=serializers.CharField())


class ChatTokenOutput(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
