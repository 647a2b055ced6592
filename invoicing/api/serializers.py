from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from invoicing.models import Invoice, InvoiceLine, rate_text


@extend_schema_field(OpenApiTypes.STR)
class VatRateField(serializers.Field):
    """The percentage as a decimal string, as on orders: ``"19.0"``, ``"25.5"``, ``"0"``."""

    def to_representation(self, value) -> str:
        return rate_text(value)


class SellerOutput(serializers.Serializer):
    name = serializers.CharField()
    address = serializers.CharField()
    vat_number = serializers.CharField(allow_blank=True)


class BuyerOutput(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    country = serializers.CharField(allow_null=True)
    vat_number = serializers.CharField(allow_null=True)


class InvoiceLineOutput(serializers.ModelSerializer):
    vat_rate = VatRateField(help_text='Percentage as a decimal string: "19.0", "25.5", "0".')

    class Meta:
        model = InvoiceLine
        fields = ["description", "net_amount", "vat_rate", "vat_amount", "gross_amount"]
        read_only_fields = fields


class InvoiceOutput(serializers.ModelSerializer):
    order_id = serializers.UUIDField()
    seller = SellerOutput()
    buyer = BuyerOutput()
    lines = InvoiceLineOutput(many=True)
    corrects_invoice_id = serializers.UUIDField(
        source="corrects_id", allow_null=True, help_text="A credit note's invoice."
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "order_id",
            "issued_at",
            "seller",
            "buyer",
            "lines",
            "net_total",
            "vat_total",
            "gross_total",
            "currency",
            "reverse_charge",
            "corrects_invoice_id",
        ]
        read_only_fields = fields


class InvoiceRefOutput(serializers.ModelSerializer):
    """What an order's JSON shows of each of its documents."""

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind"]
        read_only_fields = fields


class VatReportLineOutput(serializers.Serializer):
    country = serializers.CharField(allow_null=True)
    scheme = serializers.ChoiceField(choices=["oss", "domestic", "reverse_charge"])
    vat_rate = serializers.CharField()
    net_amount = serializers.IntegerField()
    vat_amount = serializers.IntegerField()
    documents = serializers.IntegerField(help_text="Invoices and credit notes summed.")


class VatReportOutput(serializers.Serializer):
    quarter = serializers.CharField()
    currency = serializers.CharField()
    lines = VatReportLineOutput(many=True)
