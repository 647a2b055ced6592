"""The moderators' back-office: the queue (targets with open reports, oldest first, each with
a preview, its reports, its history and a decision form), the appeals waiting for a second
moderator, the transparency figures per period, and read-only lists of every record."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from moderation import selectors, services, strikes, targets
from moderation.models import Appeal, BlockedAudio, Decision, Report, Suspension, TargetType
from veza.admin_tools import ReadOnlyAdmin, add_site_view, admin_link, short_id, when
from veza.exceptions import DomainError

QUEUE_TARGETS = 25
ADMIN_PAGES = {
    TargetType.TRACK: "admin:tracks_track_change",
    TargetType.PLAYLIST: "admin:playlists_playlist_change",
    TargetType.PRODUCT: "admin:marketplace_product_change",
    TargetType.USER: "admin:accounts_user_change",
}


def _require_moderator(request) -> None:
    if not services.is_moderator(request.user):
        raise PermissionDenied


def _admin_url(target_type: str, pk) -> str | None:
    try:
        return reverse(ADMIN_PAGES[target_type], args=[pk])
    except NoReverseMatch:
        return None


def _preview(target: targets.Target | None) -> dict:
    """What a moderator reads about the target before deciding."""
    if target is None:
        return {"missing": True}
    obj = target.obj
    facts: list[tuple[str, str]] = [("owner", target.owner.username if target.owner else "—")]
    if target.type == TargetType.TRACK:
        facts += [
            ("artist", obj.artist or "—"),
            ("genre", obj.genre or "—"),
            ("status", obj.get_status_display()),
            ("public", "yes" if obj.is_public else "no"),
            ("uploaded", when(obj.created_at)),
            ("description", obj.description[:300] or "—"),
        ]
    elif target.type == TargetType.PLAYLIST:
        facts += [
            ("public", "yes" if obj.is_public else "no"),
            ("taken down", when(obj.taken_down_at)),
            ("description", obj.description[:300] or "—"),
        ]
    elif target.type == TargetType.PRODUCT:
        facts += [
            ("type", obj.get_product_type_display()),
            ("for sale", "yes" if obj.is_active else "no"),
            ("taken down", when(obj.taken_down_at)),
            ("description", obj.description[:300] or "—"),
        ]
    else:
        facts += [
            ("display name", obj.display_name or "—"),
            ("bio", obj.bio[:300] or "—"),
            ("taken down", when(obj.profile_taken_down_at)),
        ]
    audio = obj.stream_url if target.type == TargetType.TRACK else ""
    return {
        "label": target.label,
        "facts": facts,
        "url": _admin_url(target.type, target.id),
        "audio": audio,
    }


def queue_view(request):
    _require_moderator(request)
    if request.method == "POST":
        return _decide_from_form(request)
    rows = selectors.open_targets()[:QUEUE_TARGETS]
    open_reports = {}
    for report in Report.objects.filter(
        status=Report.Status.RECEIVED,
        target_id__in=[row["target_id"] for row in rows],
    ).select_related("reporter"):
        open_reports.setdefault((report.target_type, report.target_id), []).append(report)
    history = {}
    for decision in Decision.objects.filter(
        target_id__in=[row["target_id"] for row in rows]
    ).select_related("moderator", "appeal"):
        history.setdefault((decision.target_type, decision.target_id), []).append(decision)
    groups = []
    for row in rows:
        key = (row["target_type"], row["target_id"])
        reports = sorted(open_reports.get(key, []), key=lambda r: r.created_at)
        target = targets.load(*key)
        groups.append(
            {
                "target_type": row["target_type"],
                "target_id": row["target_id"],
                "oldest": row["oldest"],
                "count": row["reports"],
                "reports": reports,
                "first_report": reports[0] if reports else None,
                "preview": _preview(target),
                "history": sorted(history.get(key, []), key=lambda d: d.created_at, reverse=True),
            }
        )
    appeals = list(selectors.appeal_queue(status=Appeal.Status.RECEIVED)[:QUEUE_TARGETS])
    context = {
        **admin.site.each_context(request),
        "title": "Moderation queue",
        "groups": groups,
        "open_targets": selectors.open_target_count(),
        "appeals": appeals,
        "grounds": Decision.Ground.choices,
        "outcomes": Appeal.Outcome.choices,
    }
    return TemplateResponse(request, "admin/moderation/queue.html", context)


def _decide_from_form(request):
    form = request.POST
    try:
        if form.get("appeal_id"):
            appeal = Appeal.objects.filter(pk=form["appeal_id"]).first()
            if appeal is None:
                raise DomainError("This appeal no longer exists.")
            services.decide_appeal(
                appeal=appeal,
                moderator=request.user,
                outcome=form.get("outcome", ""),
                explanation=form.get("explanation", ""),
                request=request,
            )
            messages.success(request, f"Appeal {short_id(appeal.pk)}: {form.get('outcome')}.")
        else:
            report = Report.objects.filter(pk=form.get("report_id")).first()
            if report is None or form.get("action") not in Decision.Action.values:
                raise DomainError("Choose an action for an existing report.")
            decision = services.decide_report(
                report=report,
                moderator=request.user,
                action=form["action"],
                ground=form.get("ground", ""),
                provision=form.get("provision", ""),
                explanation=form.get("explanation", ""),
                automated=form.get("automated") == "on",
                request=request,
            )
            messages.success(
                request,
                f"{decision.get_action_display()}: {decision.get_target_type_display()} "
                f"“{decision.target_label}” ({decision.reports.count()} report(s) decided).",
            )
    except DomainError as exc:  # an incomplete statement, already decided, same moderator
        messages.error(request, exc.detail)
    except (ValueError, ValidationError):  # a malformed id in a hand-made form
        messages.error(request, "The form was not understood.")
    return redirect("admin:moderation-queue")


def transparency_view(request):
    """The DSA transparency figures, one column per month (or for the period asked)."""
    _require_moderator(request)
    now = timezone.now()
    months = []
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(6):
        end = (start + timedelta(days=32)).replace(day=1)
        months.append((start, min(end, now)))
        start = (start - timedelta(days=1)).replace(day=1)
    periods = [
        {"label": f"{begin:%Y-%m}", **_figures(begin, end).__dict__} for begin, end in months
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Transparency report (DSA)",
        "periods": periods,
        "categories": [label for _, label in Report._meta.get_field("category").choices],
    }
    return TemplateResponse(request, "admin/moderation/transparency.html", context)


def _figures(begin, end):
    return selectors.transparency(period_from=begin, period_to=end)


add_site_view("moderation/queue/", queue_view, name="moderation-queue")
add_site_view("moderation/transparency/", transparency_view, name="moderation-transparency")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = (
        "short",
        "created_at",
        "status",
        "category",
        "target_type",
        "target",
        "reporter_display",
        "decision_link",
    )
    list_filter = ("status", "category", "target_type")
    ordering = ("created_at",)
    list_select_related = ("reporter", "decision")
    search_fields = ("=target_id", "reporter_email", "reporter__email")
    fields = (
        "id",
        "created_at",
        "status",
        "category",
        "target_type",
        "target_id",
        "target_owner",
        "description",
        "copyright",
        "reporter",
        "reporter_email",
        "reporter_name",
        "ip_address",
        "decision",
        "decided_at",
    )
    readonly_fields = fields

    @admin.display(description="report", ordering="pk")
    def short(self, report: Report) -> str:
        return short_id(report.pk)

    @admin.display(description="target")
    def target(self, report: Report) -> str:
        url = _admin_url(report.target_type, report.target_id)
        return admin_link(ADMIN_PAGES[report.target_type], report.target_id) if url else "—"

    @admin.display(description="reporter")
    def reporter_display(self, report: Report) -> str:
        return report.reporter.username if report.reporter_id else report.reporter_email

    @admin.display(description="decision")
    def decision_link(self, report: Report) -> str:
        return admin_link("admin:moderation_decision_change", report.decision_id)


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "short",
        "created_at",
        "action",
        "category",
        "target_type",
        "target_label",
        "ground",
        "moderator",
        "reversed_at",
    )
    list_filter = ("action", "category", "ground", "target_type", "automated")
    list_select_related = ("moderator",)
    search_fields = ("=target_id", "target_label", "target_owner__email")
    fields = (
        "id",
        "created_at",
        "action",
        "category",
        "target_type",
        "target_id",
        "target_label",
        "target_owner",
        "ground",
        "provision",
        "explanation",
        "automated",
        "moderator",
        "hidden",
        "reversed_at",
    )
    readonly_fields = fields

    @admin.display(description="decision", ordering="pk")
    def short(self, decision: Decision) -> str:
        return short_id(decision.pk)


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("short", "created_at", "status", "outcome", "author", "decided_by")
    list_filter = ("status", "outcome")
    list_select_related = ("author", "decided_by")
    fields = (
        "id",
        "decision",
        "author",
        "text",
        "status",
        "outcome",
        "explanation",
        "decided_by",
        "created_at",
        "decided_at",
    )
    readonly_fields = fields

    @admin.display(description="appeal", ordering="pk")
    def short(self, appeal: Appeal) -> str:
        return short_id(appeal.pk)


@admin.register(BlockedAudio)
class BlockedAudioAdmin(ReadOnlyAdmin):
    list_display = ("track_id", "sha256", "duration_seconds", "created_at", "decision")
    fields = ("decision", "track_id", "sha256", "duration_seconds", "created_at")
    readonly_fields = fields


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = ("user", "strikes", "started_at", "lifted_at", "lift_reason")
    list_filter = ("lifted_at",)
    list_select_related = ("user",)
    search_fields = ("user__email", "user__username")
    fields = ("id", "user", "strikes", "started_at", "lifted_at", "lift_reason")
    readonly_fields = fields
    actions = ["lift"]

    @admin.action(description="Lift the selected suspensions", permissions=["lift"])
    def lift(self, request, queryset):
        for suspension in queryset.filter(lifted_at__isnull=True).select_related("user"):
            strikes.lift_suspension(
                suspension=suspension, reason="lifted by staff", actor=request.user, request=request
            )
        messages.success(request, "Suspensions lifted.")

    def has_lift_permission(self, request) -> bool:
        return request.user.is_superuser or getattr(request.user, "is_admin", False)
