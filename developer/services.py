"""The writes of the developer platform: API keys and webhook endpoints."""

import base64
import secrets

from django.db import transaction
from django.utils import timezone

from audit.services import record
from developer import errors, targets
from developer.models import APIKey, OutboxEvent, WebhookDelivery, WebhookEndpoint
from veza.tasks import enqueue_on_commit


def _check_verified(user) -> None:
    if not user.email_verified:
        raise errors.EmailNotVerified()


# --- API keys -----------------------------------------------------------------------------
def create_api_key(*, owner, name: str, scopes: list[str], request=None) -> tuple[APIKey, str]:
    """The key and its clear value, which is returned once and never stored."""
    _check_verified(owner)
    with transaction.atomic():
        api_key, key = APIKey.objects.create_key(owner=owner, name=name, scopes=sorted(set(scopes)))
        record(
            action="api_key.create",
            actor=owner,
            target=api_key,
            request=request,
            details={"name": name, "prefix": api_key.prefix, "scopes": api_key.scopes},
        )
    return api_key, key


def revoke_api_key(*, api_key: APIKey, revoked_by, request=None) -> APIKey:
    with transaction.atomic():
        locked = APIKey.objects.select_for_update().get(pk=api_key.pk)
        if not locked.revoked:
            locked.revoked = True
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked", "revoked_at"])
            record(
                action="api_key.revoke",
                actor=revoked_by,
                target=locked,
                request=request,
                details={"name": locked.name, "prefix": locked.prefix},
            )
    return locked


# --- webhook endpoints ----------------------------------------------------------------------
def new_secret() -> str:
    """Standard Webhooks: "whsec_" + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def create_endpoint(
    *, owner, url: str, events: list[str], description: str = "", request=None
) -> WebhookEndpoint:
    _check_verified(owner)
    targets.resolve(url)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            owner=owner,
            url=url,
            events=sorted(set(events)),
            description=description,
            secret=new_secret(),
        )
        record(
            action="webhook_endpoint.create",
            actor=owner,
            target=endpoint,
            request=request,
            details={"url": url, "events": endpoint.events},
        )
    return endpoint


def update_endpoint(
    *, endpoint: WebhookEndpoint, data: dict, changed_by, request=None
) -> WebhookEndpoint:
    if "url" in data:
        targets.resolve(data["url"])
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        changes = {}
        for field in ("url", "events", "description", "is_active"):
            if field in data:
                value = sorted(set(data[field])) if field == "events" else data[field]
                if getattr(locked, field) != value:
                    changes[field] = {"from": getattr(locked, field), "to": value}
                    setattr(locked, field, value)
        if changes.get("is_active", {}).get("to") is True:
            # Re-enabled: the failure clock starts again.
            locked.failing_since = locked.disabled_at = None
            locked.disabled_reason = ""
        elif changes.get("is_active", {}).get("to") is False:
            locked.disabled_at = timezone.now()
            locked.disabled_reason = "Disabled by its owner."
        if changes:
            locked.save()
            record(
                action="webhook_endpoint.update",
                actor=changed_by,
                target=locked,
                request=request,
                details={"changes": changes},
            )
    return locked


def set_endpoint_active(
    *, endpoint: WebhookEndpoint, active: bool, actor, reason: str = "", request=None
) -> WebhookEndpoint:
    """The staff's disable/enable (the admin's actions)."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        if active:
            locked.failing_since = locked.disabled_at = None
            locked.disabled_reason = ""
        else:
            locked.disabled_at = timezone.now()
            locked.disabled_reason = reason or "Disabled by staff."
        locked.save()
        record(
            action="webhook_endpoint.enable" if active else "webhook_endpoint.disable",
            actor=actor,
            target=locked,
            request=request,
            details={"url": locked.url, "owner_id": str(locked.owner_id)},
        )
    return locked


def delete_endpoint(*, endpoint: WebhookEndpoint, deleted_by, request=None) -> None:
    with transaction.atomic():
        record(
            action="webhook_endpoint.delete",
            actor=deleted_by,
            target=endpoint,
            request=request,
            details={"url": endpoint.url},
        )
        endpoint.delete()


def send_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``ping`` to this endpoint alone, delivered by the worker like any event."""
    now = timezone.now()
    with transaction.atomic():
        event = OutboxEvent.objects.create(
            type="ping",
            data={"endpoint_id": str(endpoint.pk)},
            audience=[str(endpoint.owner_id)],
            dispatched_at=now,
        )
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, next_attempt_at=now
        )
        enqueue_on_commit("developer.tasks.deliver", delivery_id=str(delivery.pk))
    return delivery


def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send it again now, with the same ``webhook-id`` (receivers deduplicate on it)."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = WebhookDelivery.Status.PENDING
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "next_attempt_at"])
        enqueue_on_commit("developer.tasks.deliver", delivery_id=str(locked.pk))
    return locked
