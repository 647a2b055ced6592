"""Download through a marketplace licence: the grant marketplace registers with tracks."""

import pytest
from django.utils import timezone

from marketplace.models import License
from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory
from tracks.selectors import granted_by_another_app

pytestmark = pytest.mark.django_db


def test_active_licence_lets_the_buyer_download_a_private_track_until_revoked(client_for):
    from tests.marketplace.factories import OrderFactory, ProductFactory

    track = TrackFactory(is_public=False, is_downloadable=False, with_file=True)
    product = ProductFactory(seller=track.creator, track=track)
    buyer = UserFactory()
    order = OrderFactory(buyer=buyer, products=[product])
    licence = License.objects.create(buyer=buyer, product=product, order=order)

    assert granted_by_another_app(user=buyer, track=track) is True
    response = client_for(buyer).get(f"/api/v1/tracks/{track.id}/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"RIFF")
    stranger = client_for(UserFactory()).get(f"/api/v1/tracks/{track.id}/download")
    assert stranger.status_code == 404

    licence.revoked_at = timezone.now()
    licence.save(update_fields=["revoked_at"])
    assert granted_by_another_app(user=buyer, track=track) is False
    assert client_for(buyer).get(f"/api/v1/tracks/{track.id}/download").status_code == 404
    track.refresh_from_db()
    assert track.download_count == 1
