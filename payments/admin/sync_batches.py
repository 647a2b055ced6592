"""The progress of the refund console's bulk syncs with the provider, run on the worker."""

from django.contrib import admin

from payments.admin.common import refund_link
from payments.models import RefundSyncBatch
from veza.admin_tools import ReadOnlyAdmin, html_table


@admin.register(RefundSyncBatch)
class RefundSyncBatchAdmin(ReadOnlyAdmin):
    """A bulk sync's progress: how many of its refunds the worker has done, and what it found."""

    list_display = (
        "created_at",
        "requested_by",
        "progress",
        "changed",
        "unchanged",
        "errors",
        "finished_at",
    )
    list_select_related = ("requested_by",)
    fields = (
        "id",
        "requested_by",
        "progress",
        "changed",
        "unchanged",
        "errors",
        "created_at",
        "finished_at",
        "results_table",
    )
    readonly_fields = fields
    change_form_template = "admin/payments/refundsyncbatch/change_form.html"

    @admin.display(description="progress")
    def progress(self, batch: RefundSyncBatch) -> str:
        state = "finished" if batch.is_finished else "running"
        return f"{batch.done} of {batch.total} done ({state})"

    @admin.display(description="refunds that changed status or could not be synced")
    def results_table(self, batch: RefundSyncBatch) -> str:
        rows = []
        for result in batch.results:
            refund_id = result.get("refund", "")
            link = refund_link(refund_id)
            if "error" in result:
                rows.append((link, "error", result["error"]))
            else:
                rows.append((link, f"{result['before']} → {result['after']}", result["outcome"]))
        return html_table(["refund", "result", "detail"], rows)
