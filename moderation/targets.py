"""What a report or decision is about: a track, a playlist, a user profile or a product —
loaded, checked for visibility, hidden by a take-down and restored by a reversal, through
the services of the app that owns it."""

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from rest_framework.exceptions import NotFound

from accounts import services as account_services
from accounts.models import User
from marketplace import selectors as marketplace_selectors
from marketplace import services as marketplace_services
from marketplace.models import Product
from moderation.models import TargetType
from playlists import selectors as playlist_selectors
from playlists import services as playlist_services
from playlists.models import Playlist
from tracks import selectors as track_selectors
from tracks import services as track_services
from tracks.models import Track


@dataclass
class Target:
    type: str
    id: Any
    obj: models.Model
    owner: User | None
    label: str
    extra: dict = field(default_factory=dict)

    @property
    def is_track(self) -> bool:
        return self.type == TargetType.TRACK


def load(target_type: str, target_id) -> Target | None:
    """The target, or None when it does not exist (any more)."""
    if target_type == TargetType.TRACK:
        track = Track.objects.select_related("creator").filter(pk=target_id).first()
        return track and Target(target_type, track.pk, track, track.creator, track.title)
    if target_type == TargetType.PLAYLIST:
        playlist = Playlist.objects.select_related("owner").filter(pk=target_id).first()
        return playlist and Target(
            target_type, playlist.pk, playlist, playlist.owner, playlist.title
        )
    if target_type == TargetType.PRODUCT:
        product = Product.objects.select_related("seller").filter(pk=target_id).first()
        return product and Target(target_type, product.pk, product, product.seller, product.title)
    if target_type == TargetType.USER:
        user = User.objects.filter(pk=target_id, is_active=True).first()
        return user and Target(target_type, user.pk, user, user, user.username)
    return None


def visible_to(target: Target, user) -> bool:
    """Whether ``user`` (perhaps anonymous) may see the target: a reporter cannot report
    what it cannot see, nor learn that it exists."""
    if target.type == TargetType.TRACK:
        return track_selectors.can_view(track=target.obj, user=user)
    if target.type == TargetType.PLAYLIST:
        try:
            playlist_selectors.get_visible_playlist(pk=target.id, user=user, with_tracks=False)
        except NotFound:
            return False
        return True
    if target.type == TargetType.PRODUCT:
        return marketplace_selectors.visible_products(user).filter(pk=target.id).exists()
    if target.obj.profile_taken_down_at is None:
        return True
    return user.is_authenticated and (user.pk == target.id or user.is_admin)


def hide(target: Target, *, moderator, now) -> dict:
    """Take the target down; what was hidden, for ``restore``. Inside the decision's
    transaction."""
    hidden: dict = {}
    if target.type == TargetType.TRACK:
        previous = track_services.take_down_track(track=target.obj, moderator=moderator)
        if previous != Track.Status.TAKEN_DOWN:
            hidden["track_status"] = previous
        products = Product.objects.filter(track=target.obj)
        hidden["products"] = marketplace_services.take_down_products(products=products, now=now)
    elif target.type == TargetType.PRODUCT:
        hidden["products"] = marketplace_services.take_down_products(products=[target.obj], now=now)
    elif target.type == TargetType.PLAYLIST:
        hidden["playlist"] = playlist_services.set_taken_down(playlist=target.obj, when=now)
    else:
        hidden["profile"] = account_services.set_profile_taken_down(user=target.obj, when=now)
    return hidden


def restore(target: Target, hidden: dict, *, moderator) -> None:
    """Put back exactly what ``hide`` took down, nothing more."""
    if hidden.get("track_status"):
        track_services.restore_track(
            track=target.obj, status=hidden["track_status"], moderator=moderator
        )
    if hidden.get("products"):
        marketplace_services.restore_products(was_active=hidden["products"])
    if hidden.get("playlist"):
        playlist_services.set_taken_down(playlist=target.obj, when=None)
    if hidden.get("profile"):
        account_services.set_profile_taken_down(user=target.obj, when=None)
