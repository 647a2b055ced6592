from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import services, sessions
from accounts.api import serializers as s
from accounts.chat import issue_chat_token
from accounts.models import User
from accounts.throttling import LoginFailureThrottle, PasswordResetThrottle, RegistrationThrottle
from accounts.tokens import (
    SESSION_CLAIM,
    VezaTokenRefreshSerializer,
    issue_tokens,
    session_id_of,
)
from veza.api_errors import ErrorResponse
from veza.permissions import IsAdminRole
from veza.scopes import NO_API_KEYS
from veza.throttling import GlobalRateThrottle

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [...], detail, code}`"),
    401: OpenApiResponse(description="Missing, invalid, expired or revoked credentials"),
    403: OpenApiResponse(description="Authenticated but not allowed"),
    404: OpenApiResponse(description="Not found"),
    429: OpenApiResponse(description="Rate limited (see Retry-After)"),
}


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


@extend_schema(tags=["auth"])
class RegisterView(APIView):
    api_key_scopes = NO_API_KEYS
    throttle_classes = [GlobalRateThrottle, RegistrationThrottle]

    @extend_schema(
        request=s.RegisterInput,
        responses={
            201: s.AuthOutput,
            400: ErrorResponse("Taken email or username, or a weak password", "account_taken"),
            **_errors(429),
        },
        description="Create an account and sign it in: starts a session (`/auth/sessions`).",
    )
    def post(self, request):
        data = s.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register_user(**data.validated_data, request=request)
        return Response(
            {"user": s.UserOutput(user).data, **issue_tokens(user, request=request)},
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["auth"])
class LoginView(APIView):
    api_key_scopes = NO_API_KEYS
    throttle_classes = [GlobalRateThrottle, LoginFailureThrottle]

    @extend_schema(
        request=s.LoginInput,
        responses={
            200: s.AuthOutput,
            401: ErrorResponse("Wrong email or password", "invalid_credentials"),
            **_errors(400, 429),
        },
        description="Sign in: starts a session (`/auth/sessions`), whose id both tokens carry "
        "as the `sid` claim.",
    )
    def post(self, request):
        data = s.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.login(**data.validated_data, request=request)
        except services.errors.InvalidCredentials:
            LoginFailureThrottle().record_failure(request)
            raise
        LoginFailureThrottle().record_success(request)
        return Response({**issue_tokens(user, request=request), "user": s.UserOutput(user).data})


@extend_schema(tags=["auth"])
class RefreshView(APIView):
    api_key_scopes = NO_API_KEYS

    @extend_schema(
        request=s.RefreshInput,
        responses={200: s.TokenPairOutput, **_errors(400, 401)},
        description="Rotate the pair: the refresh token works once, the new pair keeps its "
        "session. 401 once the session has ended or the user's tokens were revoked.",
    )
    def post(self, request):
        serializer = VezaTokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(serializer.validated_data)


@extend_schema(tags=["auth"])
class LogoutView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={204: None, **_errors(401)},
        description="Sign out everywhere: every token of the user is revoked and every "
        "session ended.",
    )
    def post(self, request):
        services.logout(user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class SessionListView(generics.ListAPIView):
    """The caller's live sessions, newest first: one per sign-in (login or registration),
    kept by refreshing. `current` marks the session of the token making this request."""

    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]
    serializer_class = s.SessionOutput
    filter_backends: list = []

    def get_queryset(self):
        return sessions.live_sessions(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "current_session_id": _current_sid(self)}

    @extend_schema(responses={200: s.SessionOutput(many=True), **_errors(401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _current_sid(view) -> str | None:
    token = getattr(view.request, "auth", None)
    return session_id_of(token.get(SESSION_CLAIM)) if hasattr(token, "get") else None


@extend_schema(tags=["auth"])
class SessionDetailView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={204: None, **_errors(401, 404)},
        description="End one of the caller's sessions at once: its access and refresh tokens "
        "are refused (401) from then on; the other sessions keep working. 404 for an unknown "
        "id, an ended session or another user's.",
    )
    def delete(self, request, pk):
        sessions.end_session(user=request.user, session_id=pk, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class MeView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.UserOutput, **_errors(401)})
    def get(self, request):
        return Response(s.UserOutput(request.user).data)


@extend_schema(tags=["auth"])
class CheckUsernameView(APIView):
    api_key_scopes = NO_API_KEYS

    @extend_schema(
        parameters=[s.UsernameQuery],
        responses={200: s.AvailabilityOutput, **_errors(400)},
    )
    def get(self, request):
        query = s.UsernameQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        available = services.is_username_available(query.validated_data["username"])
        return Response({"available": available})


@extend_schema(tags=["auth"])
class VerifyEmailView(APIView):
    api_key_scopes = NO_API_KEYS

    @extend_schema(
        request=s.TokenInput,
        responses={200: s.UserOutput, 400: ErrorResponse("", "invalid_token")},
    )
    def post(self, request):
        data = s.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.verify_email(token=data.validated_data["token"])
        return Response(s.UserOutput(user).data)


@extend_schema(tags=["auth"])
class ResendVerificationView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.MessageOutput, **_errors(401)})
    def post(self, request):
        if request.user.email_verified:
            return Response({"detail": "Your email address is already verified."})
        services.send_verification_email(user=request.user)
        return Response({"detail": "A verification email is on its way."})


@extend_schema(tags=["auth"])
class PasswordResetRequestView(APIView):
    api_key_scopes = NO_API_KEYS
    throttle_classes = [GlobalRateThrottle, PasswordResetThrottle]

    @extend_schema(request=s.ResetRequestInput, responses={200: s.MessageOutput, **_errors(400)})
    def post(self, request):
        data = s.ResetRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_password_reset(email=data.validated_data["email"], request=request)
        return Response(
            {"detail": "If an account exists for this email, a reset link has been sent."}
        )


@extend_schema(tags=["auth"])
class PasswordResetView(APIView):
    api_key_scopes = NO_API_KEYS

    @extend_schema(
        request=s.ResetInput,
        responses={200: s.MessageOutput, 400: ErrorResponse("", "invalid_token")},
    )
    def post(self, request):
        data = s.ResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.reset_password(**data.validated_data, request=request)
        except DjangoValidationError as exc:  # the new password is too weak
            raise ValidationError({"password": list(exc.messages)}) from exc
        return Response({"detail": "Your password has been changed. Please sign in again."})


def _can_manage(actor, user: User) -> bool:
    return actor.is_authenticated and (actor.pk == user.pk or actor.is_admin)


def _visible_profile(request, user: User) -> User:
    if user.profile_taken_down_at is not None and not _can_manage(request.user, user):
        raise Http404("User not found.")
    return user


@extend_schema(tags=["users"])
class UserListView(generics.ListAPIView):
    """Admin directory of users, searchable by `q` and filterable by `role`."""

    api_key_scopes = NO_API_KEYS

    permission_classes = [IsAdminRole]
    serializer_class = s.UserOutput
    filterset_fields = ["role", "email_verified"]
    ordering_fields = ["created_at", "username"]

    def get_queryset(self):
        queryset = User.objects.all().order_by("-created_at")
        q = self.request.query_params.get("q")
        if q:
            queryset = queryset.filter(username__icontains=q) | queryset.filter(email__icontains=q)
        return queryset

    @extend_schema(parameters=[OpenApiParameter("q", str, description="username or email")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["users"])
class UserDetailView(APIView):
    api_key_scopes = NO_API_KEYS

    def get_object(self, pk) -> User:
        return get_object_or_404(User, pk=pk, is_active=True)

    @extend_schema(
        responses={200: s.PublicUserOutput, **_errors(404)},
        description="The public profile (never the email; the user sees it at /auth/me). "
        "A profile taken down by a moderator is 404 to everyone but its owner and admins.",
    )
    def get(self, request, pk):
        return Response(s.PublicUserOutput(_visible_profile(request, self.get_object(pk))).data)

    @extend_schema(
        request=s.UserUpdateInput,
        responses={
            200: s.UserOutput,
            403: ErrorResponse("Not the owner, or a role change refused", "role_change_forbidden"),
            **_errors(400, 401, 404),
        },
    )
    def put(self, request, pk):
        return self._update(request, pk)

    @extend_schema(
        request=s.UserUpdateInput,
        responses={
            200: s.UserOutput,
            403: ErrorResponse("Not the owner, or a role change refused", "role_change_forbidden"),
            **_errors(400, 401, 404),
        },
    )
    def patch(self, request, pk):
        return self._update(request, pk)

    def _update(self, request, pk):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        user = self.get_object(pk)
        if not _can_manage(request.user, user):
            raise PermissionDenied("You may only change your own profile.")
        data = s.UserUpdateInput(data=request.data, context={"user": user})
        data.is_valid(raise_exception=True)
        user = services.update_user(
            actor=request.user, user=user, data=data.validated_data, request=request
        )
        return Response(s.UserOutput(user).data)


@extend_schema(tags=["users"])
class UserByUsernameView(APIView):
    api_key_scopes = NO_API_KEYS

    @extend_schema(responses={200: s.PublicUserOutput, **_errors(404)})
    def get(self, request, username):
        user = get_object_or_404(User, username__iexact=username, is_active=True)
        return Response(s.PublicUserOutput(_visible_profile(request, user)).data)


@extend_schema(tags=["users"])
class UserCompletionView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.CompletionOutput, **_errors(401, 403, 404)})
    def get(self, request, pk):
        user = get_object_or_404(User, pk=pk, is_active=True)
        if not _can_manage(request.user, user):
            raise PermissionDenied("You may only see your own profile completion.")
        return Response(services.profile_completion(user))


@extend_schema(tags=["chat"])
class ChatTokenView(APIView):
    api_key_scopes = NO_API_KEYS
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.ChatTokenOutput, **_errors(401)})
    def post(self, request):
        token, expires_at = issue_chat_token(request.user)
        return Response(s.ChatTokenOutput({"token": token, "expires_at": expires_at}).data)
