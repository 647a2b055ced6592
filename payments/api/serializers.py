from rest_framework import serializers

from payments.models import Refund, SellerTransfer

__all__ = ["BalanceOutput", "RefundOutput", "TransferOutput"]


class CurrencyBalance(serializers.Serializer):
    available = serializers.IntegerField()
    currency = serializers.CharField()


class BalanceOutput(CurrencyBalance):
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

    class Meta:
        model = Refund
        fields = [
            "id",
            "order_id",
            "amount",
            "currency",
            "reason",
            "status",
            "error_message",
            "created_at",
            "succeeded_at",
            "failed_at",
        ]
