"""Subscribers only hear of what their owner may see; endpoints are their owner's alone."""

from audit.models import AuditLog
from developer.models import WebhookDelivery, WebhookEndpoint
from payments.checkout import apply_payment_status
from playlists import services as playlist_services
from tests.factories import UserFactory
from tests.marketplace.factories import OrderFactory
from tests.tracks.factories import TrackFactory
from tracks.models import Track
from tracks.services import mark_stream_ready

URL = "/api/v1/developer/webhooks"


def receivers_of(event_type: str) -> set:
    return set(
        WebhookDelivery.objects.filter(event__type=event_type).values_list(
            "endpoint__owner_id", flat=True
        )
    )


def test_a_private_tracks_events_go_only_to_its_owners_endpoints(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    private = TrackFactory(status=Track.Status.PROCESSING, is_public=False)
    stranger = UserFactory()
    make_endpoint(private.creator, receiver.url, ["track.ready"])
    make_endpoint(stranger, receiver.url, ["track.ready"])

    with django_capture_on_commit_callbacks(execute=True):
        mark_stream_ready(track_id=private.pk)

    assert receivers_of("track.ready") == {private.creator.pk}
    assert len(receiver.requests) == 1


def test_a_public_tracks_events_go_to_every_subscriber(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    public = TrackFactory(status=Track.Status.PROCESSING, is_public=True)
    stranger = UserFactory()
    make_endpoint(public.creator, receiver.url, ["track.ready"])
    make_endpoint(stranger, receiver.url, ["track.ready"])

    with django_capture_on_commit_callbacks(execute=True):
        mark_stream_ready(track_id=public.pk)

    assert receivers_of("track.ready") == {public.creator.pk, stranger.pk}


def test_a_private_playlist_reaches_its_owner_and_collaborators_only(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    owner, collaborator, stranger = UserFactory(), UserFactory(), UserFactory()
    playlist = playlist_services.create_playlist(owner=owner, title="Secret", is_public=False)
    playlist_services.set_collaborator(playlist=playlist, user=collaborator, permission="view")
    for user in (owner, collaborator, stranger):
        make_endpoint(user, receiver.url, ["playlist.updated"])

    with django_capture_on_commit_callbacks(execute=True):
        playlist_services.update_playlist(playlist=playlist, data={"title": "Still secret"})

    assert receivers_of("playlist.updated") == {owner.pk, collaborator.pk}


def test_order_events_go_to_the_buyer_and_the_orders_sellers_only(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    seller = order.items.get().seller
    stranger = UserFactory()
    for user in (order.buyer, seller, stranger):
        make_endpoint(user, receiver.url, ["order.completed"])

    with django_capture_on_commit_callbacks(execute=True):
        apply_payment_status(payment_id=order.hyperswitch_payment_id, succeeded=True)

    assert receivers_of("order.completed") == {order.buyer.pk, seller.pk}
    assert len(receiver.requests) == 2


def test_endpoint_crud_is_owner_only_and_audited(receiver, client_for, user, make_endpoint):
    endpoint = make_endpoint(user, receiver.url, ["track.ready"])
    other = client_for(UserFactory())
    mine = client_for(user)

    assert other.get(f"{URL}/{endpoint.pk}").status_code == 404
    assert other.patch(f"{URL}/{endpoint.pk}", {"is_active": False}).status_code == 404
    assert other.delete(f"{URL}/{endpoint.pk}").status_code == 404
    assert other.get(URL).json()["count"] == 0

    response = mine.patch(f"{URL}/{endpoint.pk}", {"events": ["track.deleted"], "is_active": False})
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.events == ["track.deleted"] and endpoint.is_active is False
    bad = mine.patch(f"{URL}/{endpoint.pk}", {"events": ["track.exploded"]})
    assert bad.status_code == 400
    assert mine.delete(f"{URL}/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"webhook_endpoint.create", "webhook_endpoint.update", "webhook_endpoint.delete"} <= (
        actions
    )


def test_a_key_with_webhooks_manage_registers_an_endpoint(receiver, make_key, key_client, user):
    _, key = make_key(user, ["webhooks:manage"])

    response = key_client(key).post(URL, {"url": receiver.url, "events": ["payout.paid"]})

    assert response.status_code == 201
    assert WebhookEndpoint.objects.get().owner == user
