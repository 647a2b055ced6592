import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracks.factories import wav_bytes


@pytest.fixture
def wav_upload():
    def make(name: str = "song.wav", content: bytes | None = None) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, wav_bytes() if content is None else content, "audio/wav")

    return make
