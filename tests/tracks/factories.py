import io
import wave
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.factories import CreatorFactory, UserFactory
from tracks.models import Track, TrackLike, TrackShare


def wav_bytes(*, seconds: float = 0.1, rate: int = 8000) -> bytes:
    """A real, playable mono 16-bit WAV of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


class TrackFactory(DjangoModelFactory):
    class Meta:
        model = Track
        skip_postgeneration_save = True

    creator = factory.SubFactory(CreatorFactory)
    title = factory.Sequence(lambda n: f"Track {n}")
    artist = "Some Artist"
    genre = "electronic"
    format = Track.Format.WAV
    status = Track.Status.READY
    scan_status = Track.ScanStatus.CLEAN
    is_public = True
    is_downloadable = False

    @factory.post_generation
    def with_file(obj, create, extracted, **kwargs):  # noqa: N805
        """``TrackFactory(with_file=True)`` stores a real WAV through default_storage."""
        if create and extracted:
            content = wav_bytes()
            obj.file.name = default_storage.save(
                f"tracks/{obj.creator_id}/{obj.pk}.wav", ContentFile(content)
            )
            obj.file_size = len(content)
            obj.save(update_fields=["file", "file_size"])


class TrackLikeFactory(DjangoModelFactory):
    class Meta:
        model = TrackLike

    user = factory.SubFactory(UserFactory)
    track = factory.SubFactory(TrackFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As tracks.services.like_track does: the denormalised counter moves with the row.
        like = super()._create(model_class, *args, **kwargs)
        Track.objects.filter(pk=like.track_id).update(like_count=F("like_count") + 1)
        return like


class TrackShareFactory(DjangoModelFactory):
    class Meta:
        model = TrackShare

    track = factory.SubFactory(TrackFactory)
    created_by = factory.SelfAttribute("track.creator")
    token = factory.Sequence(lambda n: f"token-{n}-abcdefghijklmnop")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
