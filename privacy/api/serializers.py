from rest_framework import serializers

from privacy.models import DataExport
from veza.serializers import JSONInput


class ExportCreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=DataExport.Status.choices)


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=DataExport.Status.choices,
        help_text="pending while it is built; ready (download_url set); expired once "
        "expires_at has passed (the file is gone); failed when the build gave up (ask again).",
    )
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent built.")
    created_at = serializers.DateTimeField()
    size = serializers.IntegerField(required=False, help_text="Bytes of the ZIP, once ready.")
    download_url = serializers.URLField(
        required=False,
        help_text="Signed for this export; works without credentials until expires_at.",
    )
    expires_at = serializers.DateTimeField(required=False)


class ErasureInput(JSONInput):
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class ErasureScheduledOutput(serializers.Serializer):
    deletion_scheduled_for = serializers.DateTimeField(allow_null=True)


class _Amounts(serializers.Serializer):
    currency = serializers.CharField()
    pending = serializers.IntegerField(required=False)
    available = serializers.IntegerField(required=False)
    held = serializers.IntegerField(required=False)
    debt = serializers.IntegerField(required=False)


class _PayoutInFlight(serializers.Serializer):
    id = serializers.UUIDField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()


class _OpenDispute(_PayoutInFlight):
    order_id = serializers.UUIDField()


class Remaining(_Amounts):
    """The first balance's non-zero amounts at the top (``{"pending": 1800, "currency":
    "EUR"}``), then every balance, payout in flight and open dispute."""

    currency = serializers.CharField(required=False)
    balances = _Amounts(many=True)
    payouts = _PayoutInFlight(many=True)
    disputes = _OpenDispute(many=True)


class BalanceNotSettledOutput(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    remaining = Remaining()
