"""A minimal clamd client: zINSTREAM over TCP (``host:port``) or a unix socket (a path)."""

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

CHUNK_SIZE = 64 * 1024


class ClamdUnavailable(Exception):
    """clamd could not be reached or did not give a verdict."""


@dataclass(frozen=True)
class ScanResult:
    infected: bool
    signature: str = ""


def _connect(address: str, timeout: float) -> socket.socket:
    address = address.strip()
    if address.startswith("unix://"):
        address = address[len("unix://") :]
    elif address.startswith("tcp://"):
        address = address[len("tcp://") :]
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClamdUnavailable(f"CLAMAV_ADDRESS {address!r} is neither host:port nor a path")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def scan_stream(*, address: str, chunks: Iterable[bytes], timeout: float) -> ScanResult:
    """Send the bytes with INSTREAM and parse clamd's one-line verdict."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for chunk in chunks:
                for start in range(0, len(chunk), CHUNK_SIZE):
                    piece = chunk[start : start + CHUNK_SIZE]
                    sock.sendall(struct.pack("!L", len(piece)) + piece)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
    except OSError as exc:
        raise ClamdUnavailable(str(exc)) from exc
    verdict = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Signature FOUND", or "... ERROR" (size limit, etc.).
    if verdict.endswith("FOUND"):
        signature = verdict.split(":", 1)[-1].strip()[: -len("FOUND")].strip()
        return ScanResult(infected=True, signature=signature)
    if verdict.endswith("OK"):
        return ScanResult(infected=False)
    raise ClamdUnavailable(f"unexpected clamd reply: {verdict[:200]!r}")
