from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.models import User
from accounts.second_factor import views as second_factor
from veza.admin_search import IndexedSearchMixin
from veza.admin_tools import add_site_view
from veza.pagination import EstimatedCountPaginator

# The second factor's pages (STAFF_REQUIRE_2FA): behind the admin's sign-in, open to a staff
# member whose session has not passed the second factor yet.
add_site_view("second-factor/verify/", second_factor.verify_view, name="second_factor_verify")
add_site_view("second-factor/enrol/", second_factor.enrol_view, name="second_factor_enrol")


class VezaUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "username")


class VezaUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(IndexedSearchMixin, BaseUserAdmin):
    form = VezaUserChangeForm
    add_form = VezaUserCreationForm
    list_display = ("username", "email", "role", "email_verified", "is_staff", "created_at")
    list_filter = ("role", "email_verified", "is_staff", "is_active")
    search_fields = (
        "email__istartswith",
        "username__istartswith",
        "display_name__istartswith",
    )
    search_help_text = "User id, email, username or display name — each by its first characters"
    ordering = ("-created_at",)
    # A million users: no COUNT(*) of the table, a bounded count of the matches (ReadOnlyAdmin's
    # settings; this admin edits, so it cannot be one).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    readonly_fields = ("id", "created_at", "updated_at", "token_version", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "email", "username", "password")}),
        ("Profile", {"fields": ("display_name", "bio", "avatar_url")}),
        ("Role and state", {"fields": ("role", "email_verified", "is_active", "token_version")}),
        ("Back-office", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change):
        # A role change made by staff revokes the user's tokens, as through the API.
        if change and "role" in form.changed_data:
            super().save_model(request, obj, form, change)
            obj.revoke_tokens()
            return
        super().save_model(request, obj, form, change)
