"""What each event says (its ``data``) and who may hear of it (its audience).

A subscriber only receives events about objects its owner may see: a public track's or
playlist's events go to every subscriber, a private one's only to its owner (and a
playlist's collaborators); orders, refunds and disputes to the buyer and the order's
sellers; payouts to the seller.
"""

from dataclasses import dataclass
from typing import Any

from marketplace.models import Order, OrderItem
from payments.models import Dispute, Payout, Refund
from playlists.models import Playlist, PlaylistCollaborator
from tracks.models import Track


@dataclass(frozen=True)
class Described:
    data: dict[str, Any]
    public: bool
    audience: list[str]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _order_parties(order_id, order: Order | None = None) -> list[str]:
    items = _prefetched_items(order)
    if items is not None:
        # The items the change already read (under the order's lock): no query.
        return sorted({str(order.buyer_id), *(str(item.seller_id) for item in items)})
    # One join for the buyer and every seller; an order without items asks for its buyer.
    rows = OrderItem.objects.filter(order_id=order_id).values_list("order__buyer_id", "seller_id")
    parties = {str(party) for row in rows for party in row}
    if not parties:
        parties = {str(Order.objects.only("buyer_id").get(pk=order_id).buyer_id)}
    return sorted(parties)


def _prefetched_items(order: Order | None) -> list | None:
    """The order's items when they were prefetched on it (``prefetch_related``), else None."""
    cache = getattr(order, "_prefetched_objects_cache", None) or {}
    return list(cache["items"]) if "items" in cache else None


def _cached_order(obj) -> Order | None:
    """The order loaded with ``obj`` (``select_related``), without fetching it."""
    return obj.order if type(obj).order.is_cached(obj) else None


def _track(track: Track) -> Described:
    return Described(
        data={
            "id": str(track.pk),
            "title": track.title,
            "artist": track.artist,
            "creator_id": str(track.creator_id),
            "status": str(track.status),
            "is_public": track.is_public,
            "duration_seconds": track.duration_seconds,
        },
        public=track.is_public,
        audience=[str(track.creator_id)],
    )


def _playlist(playlist: Playlist) -> Described:
    collaborators = PlaylistCollaborator.objects.filter(playlist=playlist).values_list(
        "user_id", flat=True
    )
    return Described(
        data={
            "id": str(playlist.pk),
            "title": playlist.title,
            "owner_id": str(playlist.owner_id),
            "is_public": playlist.is_public,
            "updated_at": _iso(playlist.updated_at),
        },
        public=playlist.is_public,
        audience=sorted({str(playlist.owner_id), *(str(c) for c in collaborators)}),
    )


def _order(order: Order) -> Described:
    return Described(
        data={
            "id": str(order.pk),
            "status": str(order.status),
            "buyer_id": str(order.buyer_id),
            "total_amount": order.total_amount,
            "currency": order.currency,
            "completed_at": _iso(order.completed_at),
        },
        public=False,
        audience=_order_parties(order.pk, order),
    )


def _refund(refund: Refund) -> Described:
    return Described(
        data={
            "id": str(refund.pk),
            "order_id": str(refund.order_id),
            "status": str(refund.status),
            "amount": refund.amount,
            "currency": refund.currency,
            "error_message": refund.error_message,
        },
        public=False,
        audience=_order_parties(refund.order_id, _cached_order(refund)),
    )


def _dispute(dispute: Dispute) -> Described:
    return Described(
        data={
            "id": str(dispute.pk),
            "order_id": str(dispute.order_id),
            "status": str(dispute.status),
            "amount": dispute.amount,
            "currency": dispute.currency,
            "reason": dispute.reason,
            "opened_at": _iso(dispute.opened_at),
            "closed_at": _iso(dispute.closed_at),
        },
        public=False,
        audience=_order_parties(dispute.order_id),
    )


def _payout(payout: Payout) -> Described:
    return Described(
        data={
            "id": str(payout.pk),
            "status": str(payout.status),
            "amount": payout.amount,
            "currency": payout.currency,
            "failure_reason": payout.failure_reason,
            "paid_at": _iso(payout.paid_at),
        },
        public=False,
        audience=[str(payout.seller_id)],
    )


DESCRIBERS = {
    Track: _track,
    Playlist: _playlist,
    Order: _order,
    Refund: _refund,
    Dispute: _dispute,
    Payout: _payout,
}


def describe(obj: Any) -> Described:
    try:
        return DESCRIBERS[type(obj)](obj)
    except KeyError as exc:
        raise TypeError(f"no webhook event describes a {type(obj).__name__}") from exc
