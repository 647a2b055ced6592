import pytest

from tests.tracks.factories import wav_bytes
from tracks.audio_formats import detect_format


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("a.mp3", b"ID3\x03\x00", "mp3"),
        ("a.mp3", b"\xff\xfb\x90\x00", "mp3"),
        ("a.mp3", b"\xff\xf1\x50\x80", None),  # ADTS is AAC, not MPEG audio
        ("a.aac", b"\xff\xf1\x50\x80", "aac"),
        ("a.aac", b"\xff\xfb\x90\x00", None),
        ("a.wav", wav_bytes()[:16], "wav"),
        ("a.wav", b"RIFF\x00\x00\x00\x00AVI ", None),
        ("a.flac", b"fLaC\x00", "flac"),
        ("a.ogg", b"OggS\x00", "ogg"),
        ("a.m4a", b"\x00\x00\x00\x18ftypM4A ", "m4a"),
        ("a.exe", b"MZ\x90\x00", None),
        ("a.wav", b"\x7fELF\x02\x01", None),
        ("a.flac", b"", None),
        ("", b"fLaC", None),
    ],
)
def test_detect_format_needs_matching_extension_and_magic(filename, head, expected):
    assert detect_format(filename=filename, head=head) == expected
