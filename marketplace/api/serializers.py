from rest_framework import serializers

from accounts.api.serializers import UserRefOutput
from invoicing.api.serializers import InvoiceRefOutput
from marketplace.models import License, Order, OrderItem, Product
from payments.api.serializers import DisputeOutput, RefundOutput

CURRENCY_HELP = "ISO-4217 code, upper case (e.g. EUR)."


class ProductOutput(serializers.ModelSerializer):
    seller = UserRefOutput()
    track_id = serializers.UUIDField(allow_null=True)
    has_file = serializers.SerializerMethodField(
        help_text="Whether a buyer gets a file: the track's audio for a track product, the "
        "uploaded file (POST /products/{id}/file) otherwise."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "seller",
            "title",
            "description",
            "price",
            "currency",
            "product_type",
            "track_id",
            "has_file",
            "is_active",
            "created_at",
        ]

    def get_has_file(self, product: Product) -> bool:
        if product.product_type == Product.Type.TRACK:
            return product.track_id is not None
        return bool(product.file)


class ProductFileInput(serializers.Serializer):
    # An empty file is refused by the service, as `invalid_file` like every other refusal.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="zip, wav, mp3, flac or pdf; checked by content, at most MAX_UPLOAD_SIZE.",
    )


class ProductInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    price = serializers.IntegerField(min_value=1, max_value=100_000_000, help_text="Minor units.")
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text=CURRENCY_HELP)
    product_type = serializers.ChoiceField(choices=Product.Type.choices)
    track_id = serializers.UUIDField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)

    def validate_track_id(self, value):
        if value is None:
            return None
        from tracks.models import Track

        track = Track.objects.filter(pk=value).first()
        user = self.context["request"].user
        if track is None or (track.creator_id != user.pk and not user.is_admin):
            raise serializers.ValidationError("Unknown track, or not one of yours.")
        return track

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "track_id" in values:
            values["track"] = values.pop("track_id")
        return values


class OrderItemOutput(serializers.ModelSerializer):
    product = ProductOutput()
    seller = UserRefOutput()

    class Meta:
        model = OrderItem
        fields = ["id", "product", "price", "currency", "seller", "refunded"]


class OrderOutput(serializers.ModelSerializer):
    buyer = UserRefOutput()
    items = OrderItemOutput(many=True)
    refunds = RefundOutput(many=True)
    disputes = DisputeOutput(many=True)
    invoices = InvoiceRefOutput(many=True, help_text="Its invoice and credit notes.")

    class Meta:
        model = Order
        fields = [
            "id",
            "buyer",
            "items",
            "total_amount",
            "refunded_amount",
            "currency",
            "status",
            "hyperswitch_payment_id",
            "completed_at",
            "refund_deadline",
            "created_at",
            "refunds",
            "disputes",
            "invoices",
        ]


class OrderItemInput(serializers.Serializer):
    product_id = serializers.UUIDField()


class OrderInput(serializers.Serializer):
    items = OrderItemInput(many=True, allow_empty=False, max_length=50)


class PaymentOutput(serializers.Serializer):
    payment_id = serializers.CharField()
    client_secret = serializers.CharField()


class OrderCreatedOutput(serializers.Serializer):
    order = OrderOutput()
    payment = PaymentOutput()


class RefundInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    items = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=100,
        help_text="Order item ids to refund; without it, every item not yet refunded.",
    )


class RefundStateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units: the sum of the items' prices.")
    items = serializers.ListField(child=serializers.UUIDField())


class RefundRequestedOutput(serializers.Serializer):
    refund = RefundStateOutput()
    message = serializers.CharField()


class LicenseOutput(serializers.ModelSerializer):
    product = ProductOutput()
    order_id = serializers.UUIDField()
    is_active = serializers.BooleanField()

    class Meta:
        model = License
        fields = ["id", "product", "order_id", "granted_at", "revoked_at", "is_active"]


class SignedUrlOutput(serializers.Serializer):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
