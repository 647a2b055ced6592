from rest_framework import serializers

from payments.models import (
    Dispute,
    LedgerEntry,
    Payout,
    PayoutMethod,
    Refund,
    SellerTransfer,
)
from veza.serializers import JSONInput

__all__ = [
    "BalanceOutput",
    "DisputeOutput",
    "PayoutMethodInput",
    "PayoutMethodOutput",
    "PayoutOutput",
    "RefundOutput",
    "StatementOutput",
    "TransferOutput",
]


LedgerKind = LedgerEntry.Kind


class CurrencyBalance(serializers.Serializer):
    currency = serializers.CharField()
    available = serializers.IntegerField(help_text="Can be paid out (minor units).")
    pending = serializers.IntegerField(help_text="Earned on orders still inside their window.")
    held = serializers.IntegerField(help_text="Frozen by open disputes.")
    debt = serializers.IntegerField(help_text="Taken back after the money had left; repaid first.")


class BalanceOutput(CurrencyBalance):
    next_payout_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next scheduled payout run happens."
    )
    balances = CurrencyBalance(many=True, help_text="Every currency the seller holds.")


class TransferOutput(serializers.ModelSerializer):
    order_id = serializers.UUIDField()
    payout_id = serializers.UUIDField(allow_null=True, help_text="The payout carrying it.")

    class Meta:
        model = SellerTransfer
        fields = [
            "id",
            "order_id",
            "amount",
            "currency",
            "status",
            "payout_id",
            "released_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookReceiptOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "duplicate", "ignored"])


class RefundOutput(serializers.ModelSerializer):
    order_id = serializers.UUIDField()
    items = serializers.SerializerMethodField(help_text="The order item ids this refund covers.")

    class Meta:
        model = Refund
        fields = [
            "id",
            "order_id",
            "amount",
            "currency",
            "reason",
            "status",
            "items",
            "error_message",
            "created_at",
            "succeeded_at",
            "failed_at",
        ]
        read_only_fields = fields

    def get_items(self, refund: Refund) -> list[str]:
        return [str(ri.order_item_id) for ri in refund.refund_items.all()]


class DisputeOutput(serializers.ModelSerializer):
    order_id = serializers.UUIDField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "order_id",
            "amount",
            "currency",
            "status",
            "stage",
            "reason",
            "evidence_due_at",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class PayoutMethodInput(JSONInput):
    payout_type = serializers.ChoiceField(choices=PayoutMethod.Type.choices)
    payout_token = serializers.CharField(
        max_length=255, help_text="What the provider's payout widget returned."
    )


class PayoutMethodOutput(serializers.ModelSerializer):
    """Never the token: what a seller's settings page shows."""

    class Meta:
        model = PayoutMethod
        fields = ["payout_type", "status", "payouts_paused", "updated_at"]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "`needs_update`: the provider refused this method (a lapsed "
                "token, an ineligible account); no payout is sent until a new one is PUT."
            }
        }


class PayoutOutput(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = [
            "id",
            "amount",
            "currency",
            "status",
            "provider_payout_id",
            "failure_reason",
            "created_at",
            "paid_at",
        ]
        read_only_fields = fields


class StatementQuery(serializers.Serializer):
    date_from = serializers.DateTimeField(required=False, help_text="ISO date or datetime")
    date_to = serializers.DateTimeField(required=False, help_text="ISO date or datetime")
    currency = serializers.CharField(required=False, default="EUR", max_length=3)


class StatementEntryOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LedgerKind.choices)
    amount = serializers.IntegerField(help_text="Signed effect on the balance (minor units).")
    order_id = serializers.UUIDField(allow_null=True)
    refund_id = serializers.UUIDField(allow_null=True)
    dispute_id = serializers.UUIDField(allow_null=True)
    payout_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class StatementOutput(serializers.Serializer):
    currency = serializers.CharField()
    opening_balance = serializers.IntegerField(
        help_text="pending + available + held − debt before the period."
    )
    closing_balance = serializers.IntegerField(help_text="The same at the end of the period.")
    entries = StatementEntryOutput(many=True)
