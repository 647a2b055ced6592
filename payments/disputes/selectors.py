"""Reads of disputes, and the access log their evidence shows."""

from dataclasses import dataclass
from datetime import datetime

from marketplace.models import Order, ProductDownload
from marketplace.selectors import can_act_on_order
from payments.models import Dispute
from tracks.models import Play, TrackDownload


def disputes_of_orders():
    return Dispute.objects.order_by("-opened_at")


def dispute_visible_to(*, user, pk) -> Dispute | None:
    """A dispute its viewer may see (buyer, a seller of the order, admin); None otherwise."""
    dispute = Dispute.objects.select_related("order").filter(pk=pk).first()
    if dispute is None or not can_act_on_order(user=user, order=dispute.order):
        return None
    return dispute


ACCESS_LOG_LIMIT = 500  # per source: a PDF a bank reads, not an export


@dataclass(frozen=True)
class Access:
    """One use of a disputed item by its buyer: a download of its file or a stream."""

    when: datetime
    kind: str  # "download" or "stream"
    item: str  # the product's title
    ip_address: str | None = None  # None for streams: the stream server does not report it
    user_agent: str = ""
    detail: str = ""


@dataclass(frozen=True)
class AccessLog:
    entries: list[Access]  # oldest first
    downloads: int  # how many there are in all (the entries may stop at the limit)
    streams: int

    @property
    def truncated(self) -> bool:
        return len(self.entries) < self.downloads + self.streams


def access_log(*, order: Order, limit: int = ACCESS_LOG_LIMIT) -> AccessLog:
    """Every download and stream of the order's items by its buyer since the order was placed:
    fetches of a product's file, downloads of a product's track, plays of it. A handful of
    queries whatever the number of rows; each source gives at most its ``limit`` latest."""
    items = [item for item in order.items.select_related("product") if not item.refunded]
    titles = {item.product_id: item.product.title for item in items}
    track_titles = {
        item.product.track_id: item.product.title for item in items if item.product.track_id
    }
    since = order.created_at
    product_downloads = ProductDownload.objects.filter(
        user_id=order.buyer_id, product_id__in=list(titles), downloaded_at__gte=since
    )
    track_downloads = TrackDownload.objects.filter(
        user_id=order.buyer_id, track_id__in=list(track_titles), downloaded_at__gte=since
    )
    plays = Play.objects.filter(
        user_id=order.buyer_id, track_id__in=list(track_titles), played_at__gte=since
    )
    entries = [
        Access(
            when=d.downloaded_at,
            kind="download",
            item=titles[d.product_id],
            ip_address=d.ip_address,
            user_agent=d.user_agent,
            detail="product file (signed link)",
        )
        for d in product_downloads.order_by("-downloaded_at")[:limit]
    ]
    entries += [
        Access(
            when=d.downloaded_at,
            kind="download",
            item=track_titles[d.track_id],
            ip_address=d.ip_address,
            user_agent=d.user_agent,
            detail="track file",
        )
        for d in track_downloads.order_by("-downloaded_at")[:limit]
    ]
    entries += [
        Access(
            when=p.played_at,
            kind="stream",
            item=track_titles[p.track_id],
            detail=f"{p.seconds} s listened",
        )
        for p in plays.order_by("-played_at")[:limit]
    ]
    return AccessLog(
        entries=sorted(entries, key=lambda a: a.when),
        downloads=product_downloads.count() + track_downloads.count(),
        streams=plays.count(),
    )
