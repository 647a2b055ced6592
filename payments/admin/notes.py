"""What every console page of the payments app shares: the timeline's wording and staff's
internal notes (a form under the page; notes already written are read-only)."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect

from audit.admin import with_money
from audit.services import record
from payments.timeline import AuditItem, LedgerItem, NoteItem, TimelineItem, WebhookItem
from veza.money import format_money as money


def describe_timeline_item(item: TimelineItem) -> tuple[str, str, str]:
    """(what, who, detail) of one timeline entry, amounts as staff read them."""
    match item:
        case AuditItem(entry=entry):
            detail = ", ".join(
                f"{k}: {v if isinstance(v, str) else json.dumps(v, default=str)}"
                for k, v in with_money(entry.details).items()
                if v
            )
            return entry.action, entry.actor.username if entry.actor else "system", detail
        case WebhookItem(entry=entry):
            return entry.event_type, "provider", f"{entry.status} → {entry.outcome} {entry.detail}"
        case NoteItem(entry=note, about=about):
            return f"internal note on the {about}", _author(note), note.text
        case LedgerItem(entry=entry):
            return (
                entry.get_kind_display(),
                entry.seller.username,
                f"{money(entry.applied_amount, entry.currency, signed=True)} "
                f"(balance after {money(entry.balance_after, entry.currency)})",
            )
    raise TypeError(f"not a timeline item: {item!r}")


def _author(note) -> str:
    return note.author.username if note.author else "—"


class NoteForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=5000,
        label="Add an internal note",
        error_messages={"required": "A note cannot be empty."},
        help_text="Visible to staff only; kept as written (notes are never edited).",
    )

    def clean_text(self):
        text = self.cleaned_data["text"].replace("\x00", "").strip()
        if not text:
            raise forms.ValidationError("A note cannot be empty.")
        return text


class InternalNotesMixin:
    """A change page that also takes a new internal note (the form under the page). Notes
    already written are shown read-only to everyone: nobody may change or delete one."""

    note_subject = ""  # "refund", "dispute", "payout"
    change_form_template = "admin/payments/notes_change_form.html"

    def note_permission(self) -> str:
        return f"payments.add_{self.note_subject}note"

    def add_internal_note(self, *, obj, author, text: str, request):
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and not self.has_view_permission(request, obj):
            raise PermissionDenied  # a note is only for those who may read what it is about
        may_add = request.user.has_perm(self.note_permission())
        form = NoteForm()
        if request.method == "POST" and obj is not None:
            if not may_add:
                record(
                    action=f"admin.{self.note_subject}_note_refused",
                    actor=request.user,
                    target=obj,
                    request=request,
                )
                raise PermissionDenied
            form = NoteForm(request.POST)
            if form.is_valid():
                self.add_internal_note(
                    obj=obj, author=request.user, text=form.cleaned_data["text"], request=request
                )
                self.message_user(
                    request, f"Note added to the {self.note_subject}.", messages.SUCCESS
                )
                return HttpResponseRedirect(request.path)
            request.method = "GET"  # show the page again, with the form's errors
        context = {
            **(extra_context or {}),
            "note_form": form,
            "note_subject": self.note_subject,
            "may_add_note": may_add,
        }
        return super().change_view(request, object_id, form_url, extra_context=context)


class NoteInline(admin.TabularInline):
    """Notes already written: read-only rows (there is no change or delete permission)."""

    extra = 0
    can_delete = False
    fields = ("created_at", "author", "text")
    readonly_fields = fields
    verbose_name = "internal note"
    verbose_name_plural = "internal notes (never edited; add one with the form below)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
