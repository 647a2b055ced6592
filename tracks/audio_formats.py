"""Which audio formats we accept, told apart by their first bytes, never by the client's word."""

from pathlib import PurePath

from tracks.models import Track

CONTENT_TYPES = {
    Track.Format.MP3: "audio/mpeg",
    Track.Format.WAV: "audio/wav",
    Track.Format.FLAC: "audio/flac",
    Track.Format.OGG: "audio/ogg",
    Track.Format.M4A: "audio/mp4",
    Track.Format.AAC: "audio/aac",
}


def _is_mpeg_audio_frame(head: bytes) -> bool:
    # 11 set sync bits, then a layer field that is not the reserved 00 (00 is ADTS/AAC).
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


def _is_adts_frame(head: bytes) -> bool:
    # 12 sync bits, layer 00.
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


def _sniff(head: bytes) -> set[str]:
    """Every format the header is compatible with (an ID3 tag may front mp3 or aac)."""
    formats: set[str] = set()
    if head.startswith(b"ID3"):
        formats |= {Track.Format.MP3, Track.Format.AAC}
    if _is_mpeg_audio_frame(head):
        formats.add(Track.Format.MP3)
    if _is_adts_frame(head):
        formats.add(Track.Format.AAC)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        formats.add(Track.Format.WAV)
    if head.startswith(b"fLaC"):
        formats.add(Track.Format.FLAC)
    if head.startswith(b"OggS"):
        formats.add(Track.Format.OGG)
    if head[4:8] == b"ftyp":
        formats.add(Track.Format.M4A)
    return formats


def extension_of(filename: str) -> str:
    return PurePath(filename or "").suffix.lower().lstrip(".")


def detect_format(*, filename: str, head: bytes) -> str | None:
    """The format when the extension is supported *and* the content matches it, else None."""
    extension = extension_of(filename)
    if extension not in Track.Format.values:
        return None
    return extension if extension in _sniff(head) else None
