"""Each event type is recorded exactly once per change, in the change's transaction: a
rollback takes it away, a replay adds nothing."""

import pytest
from django.db import transaction

from developer.models import OutboxEvent
from marketplace.models import Order
from payments.checkout import apply_payment_status
from payments.disputes.services import DisputeEvent, apply_dispute_event
from payments.models import Dispute, Payout, Refund
from payments.payouts.services import apply_payout_status, create_payout
from payments.refunds.settle import apply_refund_status
from playlists import services as playlist_services
from tests.factories import CreatorFactory, UserFactory
from tests.marketplace.factories import OrderFactory, completed_order, opened_refund
from tests.payments.payout_helpers import released, with_method
from tests.tracks.factories import TrackFactory
from tracks import services as track_services
from tracks.models import Track


class Rollback(Exception):
    pass


def events(event_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=event_type))


def rolled_back(change) -> None:
    with pytest.raises(Rollback), transaction.atomic():
        change()
        raise Rollback


def test_track_ready_once_and_not_on_rollback(db):
    track = TrackFactory(status=Track.Status.PROCESSING)
    rolled_back(lambda: track_services.mark_stream_ready(track_id=track.pk))
    assert events("track.ready") == []

    track_services.mark_stream_ready(track_id=track.pk)
    track_services.mark_stream_ready(track_id=track.pk)  # the stream server says it again

    (event,) = events("track.ready")
    assert event.data["id"] == str(track.pk) and event.data["status"] == "ready"


def test_track_deleted_once_and_not_on_rollback(db):
    track_id = TrackFactory().pk
    rolled_back(
        lambda: track_services.delete_track(track=Track.objects.get(pk=track_id), deleted_by=None)
    )
    assert events("track.deleted") == [] and Track.objects.filter(pk=track_id).exists()

    track = Track.objects.get(pk=track_id)
    track_services.delete_track(track=track, deleted_by=track.creator)

    (event,) = events("track.deleted")
    assert event.data["id"] == str(track_id) and event.audience == [str(track.creator_id)]


def test_playlist_updated_once_per_change_and_not_on_rollback(db):
    owner = UserFactory()
    playlist = playlist_services.create_playlist(owner=owner, title="Mix")
    track = TrackFactory()
    rolled_back(lambda: playlist_services.update_playlist(playlist=playlist, data={"title": "X"}))
    assert events("playlist.updated") == []

    playlist_services.update_playlist(playlist=playlist, data={"title": "Mix 2"})
    playlist_services.add_track(playlist=playlist, track=track, added_by=owner)
    playlist_services.remove_track(playlist=playlist, track_id=track.pk)

    assert len(events("playlist.updated")) == 3


def test_order_completed_once_and_not_on_rollback(db):
    order = OrderFactory()
    pay = order.hyperswitch_payment_id
    rolled_back(lambda: apply_payment_status(payment_id=pay, succeeded=True))
    assert events("order.completed") == []

    apply_payment_status(payment_id=pay, succeeded=True)
    apply_payment_status(payment_id=pay, succeeded=True)  # the webhook, replayed

    (event,) = events("order.completed")
    seller_id = str(order.items.get().seller_id)
    assert event.data["id"] == str(order.pk)
    assert sorted(event.audience) == sorted([str(order.buyer_id), seller_id])
    assert event.public is False


@pytest.mark.parametrize("status", [Refund.Status.SUCCEEDED, Refund.Status.FAILED])
def test_refund_events_once_and_not_on_rollback(db, status):
    refund = opened_refund(completed_order())
    rolled_back(lambda: apply_refund_status(refund_id=refund.pk, status=status))
    assert events(f"refund.{status}") == []

    apply_refund_status(refund_id=refund.pk, status=status)
    apply_refund_status(refund_id=refund.pk, status=status)

    (event,) = events(f"refund.{status}")
    assert event.data["id"] == str(refund.pk) and event.data["status"] == status


def _dispute_event(order: Order, status) -> DisputeEvent:
    return DisputeEvent(
        dispute_id="dp_1",
        payment_id=order.hyperswitch_payment_id,
        status=status,
        amount=order.total_amount,
        currency=order.currency,
    )


def test_dispute_opened_then_closed_once_each_and_not_on_rollback(db):
    order = completed_order()
    opened = _dispute_event(order, Dispute.Status.OPENED)
    rolled_back(lambda: apply_dispute_event(opened))
    assert events("dispute.opened") == []

    apply_dispute_event(opened)
    apply_dispute_event(opened)
    apply_dispute_event(_dispute_event(order, Dispute.Status.CHALLENGED))
    assert len(events("dispute.opened")) == 1 and events("dispute.closed") == []

    apply_dispute_event(_dispute_event(order, Dispute.Status.WON))
    apply_dispute_event(_dispute_event(order, Dispute.Status.WON))

    (closed,) = events("dispute.closed")
    assert closed.data["status"] == "won"
    assert str(order.buyer_id) in closed.audience


@pytest.mark.parametrize("status", [Payout.Status.PAID, Payout.Status.FAILED])
def test_payout_events_once_and_not_on_rollback(db, status):
    seller = CreatorFactory()
    with_method(seller)
    released(seller)
    payout = create_payout(seller_id=seller.pk, currency="EUR", minimum=1)
    rolled_back(lambda: apply_payout_status(payout_id=payout.pk, status=status))
    assert events(f"payout.{status}") == []

    apply_payout_status(payout_id=payout.pk, status=status)
    apply_payout_status(payout_id=payout.pk, status=status)

    (event,) = events(f"payout.{status}")
    assert event.audience == [str(seller.pk)] and event.data["amount"] == payout.amount


def test_without_a_recorder_the_process_refuses_to_start(settings):
    """An event is never silently dropped: no recorder, no start (and no emit)."""
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    from veza import events

    settings.EVENT_RECORDER = ""
    events.recorder.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured):
            apps.get_app_config("veza").ready()
        with pytest.raises(ImproperlyConfigured):
            events.emit("order.completed", object())
        settings.EVENT_RECORDER = "developer.outbox.no_such_recorder"
        events.recorder.cache_clear()
        with pytest.raises(ImproperlyConfigured):
            apps.get_app_config("veza").ready()
    finally:
        settings.EVENT_RECORDER = "developer.outbox.record_event"
        events.recorder.cache_clear()
    assert events.recorder().__name__ == "record_event"
