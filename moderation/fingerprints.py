"""Recognising a recording taken down for copyright when anyone uploads it again.

Two checks on every audio upload, before it is stored:
- the SHA-256 of the bytes: the very same file;
- Chromaprint's acoustic fingerprint (``fpcalc -raw``: one 32-bit sub-fingerprint per ~0.124 s
  of audio, from its chroma): the same recording re-encoded, louder or quieter, or padded.
  Two prints are aligned at the offsets where their sub-fingerprints agree exactly (silence
  added in front shifts the whole print, so the offset is searched, not assumed), and compared
  by bit-error rate over the aligned overlap, against what chance gives two unrelated prints
  with the same bit frequencies. Distinct pieces of music sit near 0.4 with chance near 0.5;
  white noise sits near 0.15 with chance near 0.15 (so a raw threshold would call any two
  noises the same); the same recording re-encoded stays under 0.01.
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
from moderation import errors, metrics
from moderation.models import BlockedAudio

logger = logging.getLogger(__name__)

# Bit-error rate at or under which two aligned prints are the same recording.
MATCH_BER = 0.20
# Aligned sub-fingerprints needed before two prints are compared (320 bits; fpcalc gives
# the first one after ~2.7 s of audio, then eight a second: a clip of ~4 s), and at least
# half of the shorter print: an alignment at the edge of two prints says too little to refuse
# anyone's upload on.
MIN_OVERLAP = 10
# What fpcalc (algorithm 2) gives for digital silence: silence added in front, or a silent
# file, says nothing about a recording.
SILENCE = 627964279
# ... and at most this share of the bit-error rate chance would give the two prints.
MAX_SHARE_OF_CHANCE = 0.5
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
        if hasattr(upload, "temporary_file_path"):
            # Django spooled a large upload to disk already: fpcalc reads that file.
            digest = hashlib.sha256()
            while chunk := upload.read(CHUNK):
                digest.update(chunk)
            fingerprint, duration = fingerprint_file(upload.temporary_file_path())
            return AudioPrint(digest.hexdigest(), fingerprint, duration)
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
    return print_[index] != SILENCE


def _sound_length(print_: list[int]) -> int:
    return sum(1 for value in print_ if value != SILENCE)


def _aligned(a: list[int], b: list[int], offset: int) -> list[tuple[int, int]]:
    """The pairs ``(a[i + offset], b[i])`` of the overlap, leaving out those silent in both."""
    start = max(0, -offset)
    end = min(len(b), len(a) - offset)
    return [
        (a[i + offset], b[i])
        for i in range(start, end)
        if _is_sound(a, i + offset) or _is_sound(b, i)
    ]


def bit_error_rate(a: list[int], b: list[int], offset: int) -> tuple[float, int]:
    """BER of ``a[i + offset]`` against ``b[i]`` over their aligned overlap; also the number of
    positions compared."""
    pairs = _aligned(a, b, offset)
    if not pairs:
        return 1.0, 0
    return sum((x ^ y).bit_count() for x, y in pairs) / (32 * len(pairs)), len(pairs)


def chance_error_rate(pairs: list[tuple[int, int]]) -> float:
    """The BER two unrelated prints with the same bit frequencies would show: per bit k,
    p_a(1 - p_b) + p_b(1 - p_a). Near 0.5 for music; far lower for noise or drones, whose
    sub-fingerprints share most bits whatever the recording — a raw BER would call any two
    of them the same."""
    n = len(pairs)
    total = 0.0
    for k in range(32):
        mask = 1 << k
        ones_a = sum(1 for x, _ in pairs if x & mask) / n
        ones_b = sum(1 for _, y in pairs if y & mask) / n
        total += ones_a * (1 - ones_b) + ones_b * (1 - ones_a)
    return total / 32


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


@dataclass(frozen=True)
class Alignment:
    offset: int
    compared: int
    bit_error_rate: float
    chance: float


def alignments(a: list[int], b: list[int]) -> list[Alignment]:
    """``a`` against ``b`` at each candidate offset with enough overlap."""
    found = []
    needed = max(MIN_OVERLAP, min(_sound_length(a), _sound_length(b)) // 2)
    for offset in candidate_offsets(a, b):
        pairs = _aligned(a, b, offset)
        if len(pairs) >= needed:
            ber = sum((x ^ y).bit_count() for x, y in pairs) / (32 * len(pairs))
            found.append(Alignment(offset, len(pairs), ber, chance_error_rate(pairs)))
    return found


def best_match(a: list[int], b: list[int]) -> float:
    """The lowest bit-error rate of ``a`` against ``b`` over the candidate alignments where it
    is also far under what chance gives those prints (``chance_error_rate``); 1.0 when none.
    A steady tone gives one sub-fingerprint over and over: two such prints match when they
    are the same tone (both rates 0), not otherwise."""
    scores = [
        found.bit_error_rate
        for found in alignments(a, b)
        if found.bit_error_rate <= MAX_SHARE_OF_CHANCE * found.chance
    ]
    return min(scores, default=1.0)


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
        matched_by = "sha256" if blocked.sha256 == audio.sha256 else "fingerprint"
        metrics.uploads_blocked.labels(matched_by=matched_by).inc()
        logger.info(
            "upload by %s refused: matches taken-down track %s", creator.pk, blocked.track_id
        )
        raise errors.BlockedContent()
