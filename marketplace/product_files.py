"""Which files a pack, sample or licence product may deliver, told apart by their first bytes
and never by the client's word (audio goes through the track upload's own sniffing)."""

from tracks.audio_formats import detect_format, extension_of

CONTENT_TYPES = {
    "zip": "application/zip",
    "pdf": "application/pdf",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
}
ACCEPTED_DETAIL = "The file is not an accepted product file (zip, wav, mp3, flac, pdf)."


def _matches(extension: str, *, filename: str, head: bytes) -> bool:
    if extension == "zip":
        # A local file header, or the end record of an empty archive.
        return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    return detect_format(filename=filename, head=head) == extension


def detect(*, filename: str, head: bytes) -> str | None:
    """The file's type when its extension is accepted *and* its content matches, else None."""
    extension = extension_of(filename)
    if extension not in CONTENT_TYPES:
        return None
    return extension if _matches(extension, filename=filename, head=head) else None


def content_type_of(name: str) -> str:
    return CONTENT_TYPES.get(extension_of(name), "application/octet-stream")
