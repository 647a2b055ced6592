from rest_framework import serializers

from accounts.api.serializers import UserRefOutput
from invoicing.api.serializers import InvoiceRefOutput
from marketplace import vat
from marketplace.models import License, Order, OrderItem, Product
from payments.api.serializers import DisputeOutput, RefundOutput
from veza.serializers import JSONInput

CURRENCY_HELP = "ISO-4217 code, upper case (e.g. EUR)."


class ProductOutput(serializers.ModelSerializer):
    seller = UserRefOutput()
    track_id = serializers.UUIDField(allow_null=True)
    has_file = serializers.SerializerMethodField(
        help_text="Whether a buyer gets a file: the track's audio for a track product, the "
        "uploaded file (POST /products/{id}/file) otherwise."
    )
    vat_rate = serializers.SerializerMethodField(
        help_text="With ?country=XX only (null otherwise): the standard VAT rate of that "
        'country today, a decimal string ("20.0", "25.5"; "0" outside the EU).'
    )
    gross_price = serializers.SerializerMethodField(
        help_text="With ?country=XX only (null otherwise): what a consumer of that country "
        "pays, price + round_half_up(price × vat_rate / 100), minor units."
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
            "vat_rate",
            "gross_price",
        ]
        read_only_fields = fields

    def _rate(self):
        """The VAT rate the view put in the context for its ?country, or None."""
        return self.context.get("vat_rate")

    def get_vat_rate(self, product: Product) -> str | None:
        rate = self._rate()
        return None if rate is None else vat.format_rate(rate)

    def get_gross_price(self, product: Product) -> int | None:
        rate = self._rate()
        return None if rate is None else product.price + vat.vat_of(product.price, rate)

    def get_has_file(self, product: Product) -> bool:
        if product.product_type == Product.Type.TRACK:
            return product.track_id is not None
        return bool(product.file)


class ProductFileInput(JSONInput):
    # An empty file is refused by the service, as `invalid_file` like every other refusal.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="zip, wav, mp3, flac or pdf; checked by content, at most MAX_UPLOAD_SIZE.",
    )


class ProductInput(JSONInput):
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
        if track.status == Track.Status.TAKEN_DOWN:
            raise serializers.ValidationError("This track was taken down by a moderator.")
        return track

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "track_id" in values:
            values["track"] = values.pop("track_id")
        return values


class OrderItemOutput(serializers.ModelSerializer):
    product = ProductOutput()
    seller = UserRefOutput()
    price = serializers.IntegerField(help_text="Net price, minor units (what the seller earns on).")
    vat_rate = serializers.SerializerMethodField(
        help_text='The VAT rate applied, a decimal string ("19.0", "25.5"; "0" for none, as '
        "under the reverse charge)."
    )
    vat_amount = serializers.IntegerField(
        help_text="round_half_up(price × vat_rate / 100), minor units."
    )

    class Meta:
        model = OrderItem
        fields = [
            "id",
            "product",
            "price",
            "vat_rate",
            "vat_amount",
            "currency",
            "seller",
            "refunded",
        ]
        read_only_fields = fields

    def get_vat_rate(self, item: OrderItem) -> str:
        return vat.format_rate(item.vat_rate)


class OrderOutput(serializers.ModelSerializer):
    buyer = UserRefOutput()
    items = OrderItemOutput(many=True)
    net_amount = serializers.IntegerField(help_text="Sum of the items' net prices.")
    vat_amount = serializers.IntegerField(help_text="Sum of the items' VAT (each rounded).")
    total_amount = serializers.IntegerField(
        help_text="net_amount + vat_amount: what the buyer pays, minor units."
    )
    tax_country = serializers.CharField(
        allow_null=True,
        help_text="Where the VAT is due (ISO 3166-1 alpha-2, outside the EU too, at rate 0); "
        "null when no country was known.",
    )
    reverse_charge = serializers.BooleanField(
        help_text="A business of another EU member state than the platform's: no VAT charged."
    )
    billing_country = serializers.CharField(help_text='As given with the order; "" if none.')
    vat_number = serializers.CharField(help_text='The buyer\'s EU VAT number, compacted; or "".')
    vat_number_confirmed = serializers.BooleanField(
        allow_null=True,
        help_text="true: confirmed by VIES; false: VIES could not be asked; null: not asked.",
    )
    refunded_amount = serializers.IntegerField(
        help_text="Sum of the succeeded refunds, VAT included."
    )
    refunds = RefundOutput(many=True)
    disputes = DisputeOutput(many=True)
    invoices = InvoiceRefOutput(many=True, help_text="Its invoice and credit notes.")

    class Meta:
        model = Order
        fields = [
            "id",
            "buyer",
            "items",
            "net_amount",
            "vat_amount",
            "total_amount",
            "tax_country",
            "reverse_charge",
            "billing_country",
            "vat_number",
            "vat_number_confirmed",
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
        read_only_fields = fields


class OrderItemInput(JSONInput):
    product_id = serializers.UUIDField()


class OrderInput(JSONInput):
    items = OrderItemInput(many=True, allow_empty=False, min_length=1, max_length=50)
    billing_country = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=8,
        help_text="ISO 3166-1 alpha-2 (lower case accepted): the buyer's country, where VAT "
        "is due. Without it, the profile's country, else DEFAULT_BILLING_COUNTRY. An unknown "
        "code is 400 `invalid_country`.",
    )
    vat_number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="A business's EU VAT number, e.g. DE136695976 (spaces and dots ignored; "
        "without a prefix, the billing country's). Checked for its check digits and, with "
        "VIES_URL, by VIES: 400 `invalid_vat_number`. Another member state than the "
        "platform's → reverse charge, no VAT.",
    )


class PaymentOutput(serializers.Serializer):
    payment_id = serializers.CharField()
    client_secret = serializers.CharField()


class OrderCreatedOutput(serializers.Serializer):
    order = OrderOutput()
    payment = PaymentOutput()


class RefundInput(JSONInput):
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
    amount = serializers.IntegerField(
        help_text="Minor units: what the buyer paid for the items, their prices + VAT."
    )
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
        read_only_fields = fields


class SignedUrlOutput(serializers.Serializer):
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
