"""Recognising a recording taken down for copyright when anyone uploads it again.

Two checks on every audio upload, before it is stored:
- the SHA-256 of the bytes: the very same file;
- Chromaprint's acoustic fingerprint (``fpcalc -raw``: one 32-bit sub-fingerprint per ~0.124 s
  of audio, from its chroma): the same recording re-encoded, louder or quieter, or padded.
  Two prints are aligned at the offsets where their sub-fingerprints agree exactly (silence
  added in front shifts the whole print, so the offset is searched, not assumed), and compared
  by bit-error rate over the aligned overlap. Distinct recordings sit near 0.4 (random bits
  would be 0.5); the same recording re-encoded stays under 0.1.
"""

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass

from django.conf import settings

from audit.services import record
from moderation import errors
from moderation.models import BlockedAudio

logger = logging.getLogger(__name__)

# Bit-error rate at or under which two aligned prints are the same recording.
MATCH_BER = 0.20
# Aligned sub-fingerprints needed before a print is compared at all (~4 s of sound): a
# shorter overlap says too little to refuse anyone's upload on.
MIN_OVERLAP = 32
# Offsets tried per pair: the best-agreeing ones from the exact-match vote.
CANDIDATE_OFFSETS = 5
FPCALC_TIMEOUT = 60
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class AudioPrint:
    sha256: str
    fingerprint: list[int]
    duration_seconds: float | None


def fpcalc_path() -> str | None:
    return shutil.which(settings.FPCALC_PATH)


def fingerprint_file(path: str) -> tuple[list[int], float | None]:
    """``fpcalc -raw -json`` of a file: its sub-fingerprints and duration ([] when fpcalc is
    missing or cannot decode the audio)."""
    binary = fpcalc_path()
    if binary is None:
        return [], None
    try:
        completed = subprocess.run(  # noqa: S603 - a fixed binary, a path we wrote
            [binary, "-raw", "-json", "-length", str(settings.FPCALC_MAX_SECONDS), path],
            capture_output=True,
            timeout=FPCALC_TIMEOUT,
            check=False,
        )
        result = json.loads(completed.stdout or b"{}")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        logger.warning("fpcalc failed on an upload", exc_info=True)
        return [], None
    return [int(v) for v in result.get("fingerprint") or []], result.get("duration")


def print_of_stream(stream, *, suffix: str = "") -> AudioPrint:
    """Hash and fingerprint a file object (an upload, or a stored file): copied to a
    temporary file chunk by chunk, never read whole into memory."""
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            copy.write(chunk)
        copy.flush()
        fingerprint, duration = fingerprint_file(copy.name)
    return AudioPrint(sha256=digest.hexdigest(), fingerprint=fingerprint, duration_seconds=duration)


def print_of_upload(upload) -> AudioPrint:
    upload.seek(0)
    try:
        return print_of_stream(upload, suffix=_suffix(upload.name))
    finally:
        upload.seek(0)


def print_of_stored(field_file) -> AudioPrint | None:
    """The print of a track's stored audio (None when the file is gone)."""
    if not field_file:
        return None
    try:
        with field_file.storage.open(field_file.name, "rb") as handle:
            return print_of_stream(handle, suffix=_suffix(field_file.name))
    except FileNotFoundError:
        return None


def _suffix(name: str | None) -> str:
    # fpcalc (FFmpeg) probes the content; the extension only helps it along.
    name = name or ""
    return "." + name.rsplit(".", 1)[-1][:8] if "." in name else ""


def _is_sound(print_: list[int], index: int) -> bool:
    # Silence (and a steady tone) gives the same sub-fingerprint over and over; such runs
    # match any other silence and say nothing about the recording.
    return index == 0 or print_[index] != print_[index - 1]


def bit_error_rate(a: list[int], b: list[int], offset: int) -> tuple[float, int]:
    """BER of ``a[i + offset]`` against ``b[i]`` over their overlap, leaving out runs of one
    repeated value in either; also the number of positions compared."""
    start = max(0, -offset)
    end = min(len(b), len(a) - offset)
    errors_, compared = 0, 0
    for i in range(start, end):
        j = i + offset
        if _is_sound(a, j) or _is_sound(b, i):
            errors_ += (a[j] ^ b[i]).bit_count()
            compared += 1
    if compared == 0:
        return 1.0, 0
    return errors_ / (32 * compared), compared


def candidate_offsets(a: list[int], b: list[int]) -> list[int]:
    """Offsets at which most sub-fingerprints of ``a`` and ``b`` agree exactly."""
    positions: dict[int, list[int]] = {}
    for i, value in enumerate(b):
        if _is_sound(b, i):
            positions.setdefault(value, []).append(i)
    votes: Counter = Counter()
    for j, value in enumerate(a):
        for i in positions.get(value, ()):
            votes[j - i] += 1
    return [offset for offset, _ in votes.most_common(CANDIDATE_OFFSETS)]


def best_match(a: list[int], b: list[int]) -> float:
    """The lowest bit-error rate of ``a`` against ``b`` over the candidate alignments with
    enough overlap (1.0 when there is none)."""
    best = 1.0
    for offset in candidate_offsets(a, b):
        ber, compared = bit_error_rate(a, b, offset)
        if compared >= MIN_OVERLAP:
            best = min(best, ber)
    return best


def same_recording(a: list[int], b: list[int]) -> bool:
    return best_match(a, b) <= MATCH_BER


def matching_blocked_audio(audio: AudioPrint):
    """The first taken-down recording the audio matches, or None."""
    same_file = BlockedAudio.objects.filter(sha256=audio.sha256).first()
    if same_file is not None or not audio.fingerprint:
        return same_file
    # The table holds only what moderators took down for copyright: small next to the
    # catalogue, read in batches without its rows' other columns.
    rows = BlockedAudio.objects.exclude(fingerprint=[]).only("pk", "fingerprint", "track_id")
    for blocked in rows.iterator(chunk_size=200):
        if same_recording(audio.fingerprint, blocked.fingerprint):
            return blocked
    return None


def refuse_blocked_upload(*, upload, creator) -> None:
    """Registered with tracks: 400 ``blocked_content`` for a taken-down recording."""
    if not BlockedAudio.objects.exists():
        return
    audio = print_of_upload(upload)
    blocked = matching_blocked_audio(audio)
    if blocked is not None:
        record(
            action="moderation.upload_blocked",
            actor=creator,
            target_type="moderation.blockedaudio",
            target_id=str(blocked.pk),
            details={"track_id": str(blocked.track_id), "sha256": audio.sha256},
        )
        logger.info(
            "upload by %s refused: matches taken-down track %s", creator.pk, blocked.track_id
        )
        raise errors.BlockedContent()
