from rest_framework import serializers

from payments.models import Dispute, Refund, SellerTransfer

__all__ = ["BalanceOutput", "DisputeOutput", "RefundOutput", "TransferOutput"]


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

    class Meta:
        model = SellerTransfer
        fields = [
            "id",
            "order_id",
            "amount",
            "currency",
            "status",
            "provider_transfer_id",
            "created_at",
            "updated_at",
        ]


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
