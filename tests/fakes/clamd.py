"""A clamd stand-in speaking zINSTREAM on a real socket (tests of every upload)."""

import socketserver
import struct

EICAR_MARKER = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


class FakeClamd(socketserver.BaseRequestHandler):
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
