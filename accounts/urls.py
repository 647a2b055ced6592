from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/sessions", views.SessionListView.as_view(), name="auth-sessions"),
    path("auth/sessions/<uuid:pk>", views.SessionDetailView.as_view(), name="auth-session"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/check-username", views.CheckUsernameView.as_view(), name="auth-check-username"),
    path("auth/verify-email", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    path(
        "auth/resend-verification",
        views.ResendVerificationView.as_view(),
        name="auth-resend-verification",
    ),
    path(
        "auth/password/reset-request",
        views.PasswordResetRequestView.as_view(),
        name="auth-password-reset-request",
    ),
    path("auth/password/reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("users", views.UserListView.as_view(), name="user-list"),
    path(
        "users/by-username/<str:username>",
        views.UserByUsernameView.as_view(),
        name="user-by-username",
    ),
    path("users/<uuid:pk>", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<uuid:pk>/completion", views.UserCompletionView.as_view(), name="user-completion"),
    path("chat/token", views.ChatTokenView.as_view(), name="chat-token"),
]
