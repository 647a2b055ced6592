"""A JSON body's members have the JSON types the OpenAPI schema documents: DRF's coercions
(14 → "14", "yes" → true, "3" → 3) would have the server accept what the schema calls invalid.
Forms and multipart uploads, whose values are all strings, keep DRF's parsing."""

import pytest
from django.http import QueryDict
from rest_framework import serializers

from playlists.models import Playlist
from veza.serializers import JSONInput

pytestmark = pytest.mark.django_db


class Sample(JSONInput):
    title = serializers.CharField()
    count = serializers.IntegerField(required=False)
    public = serializers.BooleanField(required=False)


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({"title": 14}, "title"),
        ({"title": "ok", "count": "3"}, "count"),
        ({"title": "ok", "count": True}, "count"),
        ({"title": "ok", "public": "yes"}, "public"),
    ],
)
def test_a_member_of_another_json_type_is_refused(body, wrong):
    sample = Sample(data=body)
    assert not sample.is_valid()
    assert set(sample.errors) == {wrong}


def test_a_whole_float_is_an_integer_as_in_json_schema():
    sample = Sample(data={"title": "ok", "count": 3.0, "public": True})
    assert sample.is_valid(), sample.errors
    assert sample.validated_data["count"] == 3


def test_form_values_keep_drfs_parsing():
    sample = Sample(data=QueryDict("title=ok&count=3&public=true"))
    assert sample.is_valid(), sample.errors
    assert sample.validated_data == {"title": "ok", "count": 3, "public": True}


def test_the_api_refuses_a_number_for_a_title_and_creates_nothing(client_for, user):
    response = client_for(user).post("/api/v1/playlists", {"title": 14}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "title" in response.json()
    assert not Playlist.objects.filter(owner=user).exists()
