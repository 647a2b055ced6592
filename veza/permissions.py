from rest_framework.permissions import BasePermission

from accounts.models import CREATOR_ROLES


class IsAdminRole(BasePermission):
    """The API's admin role (not Django's is_staff, which is about the back-office)."""

    message = "Only administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


class IsCreatorRole(BasePermission):
    """Creator roles (creator, artist, producer, label, admin) or BYPASS_CONTENT_CREATOR_ROLE."""

    message = "Only creator accounts (creator, artist, producer, label) may do this."

    def has_permission(self, request, view) -> bool:
        from django.conf import settings

        user = request.user
        if not (user and user.is_authenticated):
            return False
        return settings.BYPASS_CONTENT_CREATOR_ROLE or user.role in CREATOR_ROLES
