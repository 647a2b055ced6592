import socket
import socketserver
import struct
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracks.factories import wav_bytes

EICAR_MARKER = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


class _FakeClamd(socketserver.BaseRequestHandler):
    """Speaks clamd's zINSTREAM: a command, length-prefixed chunks, a zero length, a verdict."""

    def handle(self):
        command = b""
        while not command.endswith(b"\0"):
            data = self.request.recv(1)
            if not data:
                return
            command += data
        if command != b"zINSTREAM\0":
            self.request.sendall(b"UNKNOWN COMMAND\0")
            return
        payload = b""
        while True:
            size = struct.unpack("!L", self._read_exactly(4))[0]
            if size == 0:
                break
            payload += self._read_exactly(size)
        self.server.scanned.append(payload)
        if EICAR_MARKER in payload:
            self.request.sendall(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            self.request.sendall(b"stream: OK\0")

    def _read_exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data


@pytest.fixture
def fake_clamd(settings):
    """A real TCP clamd stand-in on 127.0.0.1; CLAMAV_ADDRESS points at it."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeClamd)
    server.daemon_threads = True
    server.scanned = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address
    settings.CLAMAV_ADDRESS = f"{host}:{port}"
    settings.CLAMAV_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_clamd_unix(settings, tmp_path):
    """The same stand-in on a unix socket; CLAMAV_ADDRESS is the socket's path."""
    path = str(tmp_path / "clamd.sock")
    server = socketserver.ThreadingUnixStreamServer(path, _FakeClamd)
    server.daemon_threads = True
    server.scanned = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CLAMAV_ADDRESS = f"unix://{path}"
    settings.CLAMAV_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_clamd_address(settings):
    """An address where nothing listens (a port just freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
    settings.CLAMAV_TIMEOUT = 2
    return settings.CLAMAV_ADDRESS


@pytest.fixture
def wav_upload():
    def make(name: str = "song.wav", content: bytes | None = None) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, wav_bytes() if content is None else content, "audio/wav")

    return make
