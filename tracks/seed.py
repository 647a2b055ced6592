"""Demo tracks (real WAV files, through the upload service), likes and share links.

Runs after the accounts seed: it only looks up the ``demo_*`` users and does nothing when
there are none. Every step is idempotent (tracks are keyed by creator and title).
"""

import io
import math
import struct
import wave

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from accounts.models import CREATOR_ROLES, User
from tracks import services
from tracks.models import Track, TrackShare

TRACKS_PER_CREATOR = 3
BULK_TRACKS_PER_SCALE = 50
BULK_TITLE_PREFIX = "Bulk demo track "
GENRES = ["ambient", "electronic", "jazz", "hip-hop", "rock", "classical"]
# A A minor arpeggio, one note per demo track, so the files are audibly different.
NOTES_HZ = [220.0, 261.63, 329.63, 440.0, 523.25, 659.25]


def demo_users():
    return User.objects.filter(username__startswith="demo_").exclude(
        username__startswith="demo_buyer_"
    )


def demo_creators():
    return demo_users().filter(role__in=CREATOR_ROLES).order_by("username")


def tone_wav(*, frequency: float, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short, real, playable 16-bit mono sine tone."""
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * n / rate)))
        for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


def seed_tracks(scale: int = 1) -> None:
    for c_index, creator in enumerate(demo_creators()):
        for i in range(TRACKS_PER_CREATOR):
            title = f"{creator.display_name or creator.username} — Sketch {i + 1}"
            if Track.objects.filter(creator=creator, title=title).exists():
                continue
            note = NOTES_HZ[(c_index + i) % len(NOTES_HZ)]
            track = services.upload_track(
                creator=creator,
                upload=SimpleUploadedFile(
                    f"sketch-{i + 1}.wav", tone_wav(frequency=note), "audio/wav"
                ),
                title=title,
                artist=creator.display_name or creator.username,
                album="Demo Sessions",
                genre=GENRES[(c_index + i) % len(GENRES)],
                description=f"A one-second {note:.0f} Hz tone.",
                is_public=i != TRACKS_PER_CREATOR - 1,  # the last one stays private
                is_downloadable=i == 0,
            )
            # No stream server in a demo: play its part so the tracks are listed.
            services.mark_stream_ready(track_id=track.pk, duration_seconds=1)
    _seed_bulk_tracks(scale)


def _seed_bulk_tracks(scale: int) -> None:
    wanted = BULK_TRACKS_PER_SCALE * (scale - 1)
    creators = list(demo_creators())
    if wanted <= 0 or not creators:
        return
    existing = set(
        Track.objects.filter(title__startswith=BULK_TITLE_PREFIX).values_list("title", flat=True)
    )
    Track.objects.bulk_create(
        [
            Track(
                creator=creators[i % len(creators)],
                title=f"{BULK_TITLE_PREFIX}{i}",
                genre=GENRES[i % len(GENRES)],
                format=Track.Format.WAV,
                status=Track.Status.READY,
                duration_seconds=60 + i % 240,
                play_count=i * 7 % 1000,
            )
            for i in range(wanted)
            if f"{BULK_TITLE_PREFIX}{i}" not in existing
        ],
        batch_size=1000,
    )


def seed_likes_and_shares(scale: int = 1) -> None:
    listeners = list(demo_users().order_by("username"))
    public = list(
        Track.objects.filter(creator__in=demo_creators(), is_public=True)
        .exclude(title__startswith=BULK_TITLE_PREFIX)
        .order_by("title")
    )
    for n, listener in enumerate(listeners):
        for track in public[n % 3 :: 3]:
            if track.creator_id != listener.pk:
                services.like_track(track=track, user=listener)
    for creator in demo_creators():
        private = Track.objects.filter(creator=creator, is_public=False).order_by("title").first()
        if private is None:
            continue
        has_active = TrackShare.objects.filter(
            Q(revoked_at__isnull=True), track=private, expires_at__gt=timezone.now()
        ).exists()
        if not has_active:
            services.create_share(track=private, created_by=creator, expires_in_hours=720)


STEPS = [("tracks", seed_tracks), ("track likes and shares", seed_likes_and_shares)]
