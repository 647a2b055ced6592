"""Distinct generated recordings for the fingerprint tests and measurements.

Each seed gives its own short piece: a random melody with chords over a scale, each note with
a few harmonics and a decaying envelope. ``variant`` re-renders a recording the ways a
re-upload disguises it: louder or quieter, silence in front, re-encoded as MP3 (lameenc).
"""

import io
import math
import random
import struct
import wave

RATE = 11025
SCALE = (0, 2, 4, 5, 7, 9, 11, 12, 14, 16)


def melody(seed: int, *, seconds: float = 12.0) -> list[float]:
    """Samples in [-1, 1] of recording number ``seed``."""
    rng = random.Random(seed)
    total = int(seconds * RATE)
    samples = [0.0] * total
    base = rng.choice((45, 47, 48, 50, 52, 53, 55, 57))
    tempo = rng.uniform(0.8, 1.25)
    at = 0
    while at < total:
        length = int(RATE * tempo * rng.choice((0.125, 0.25, 0.25, 0.5, 0.75)))
        notes = [base + rng.choice(SCALE) for _ in range(rng.choice((1, 2, 3)))]
        steps = [2 * math.pi * 440.0 * 2 ** ((note - 69) / 12) / RATE for note in notes]
        for i in range(min(length, total - at)):
            envelope = min(1.0, i / 100) * math.exp(-3.0 * i / length)
            n = at + i
            value = sum(
                math.sin(step * n) + 0.4 * math.sin(2 * step * n) + 0.2 * math.sin(3 * step * n)
                for step in steps
            )
            samples[n] = 0.3 * envelope * value / len(steps)
        at += length
    return samples


def pcm16(samples: list[float], *, gain: float = 1.0, pad_seconds: float = 0.0) -> bytes:
    padded = [0.0] * int(pad_seconds * RATE) + samples
    return b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s * gain)) * 32000)) for s in padded)


def wav_file(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


def mp3_file(pcm: bytes, *, kbps: int = 64) -> bytes:
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm) + encoder.flush())


def original(seed: int, *, seconds: float = 12.0) -> bytes:
    """Recording ``seed`` as a WAV file."""
    return wav_file(pcm16(melody(seed, seconds=seconds)))


def variant(
    seed: int, *, gain: float = 0.5, pad_seconds: float = 2.5, seconds: float = 12.0
) -> bytes:
    """The same recording, quieter (or louder), with silence in front, re-encoded as MP3."""
    return mp3_file(pcm16(melody(seed, seconds=seconds), gain=gain, pad_seconds=pad_seconds))


def tone(frequency: float, *, seconds: float = 8.0) -> list[float]:
    """A steady sine: Chromaprint gives it one sub-fingerprint over and over."""
    step = 2 * math.pi * frequency / RATE
    return [0.5 * math.sin(step * n) for n in range(int(seconds * RATE))]


def silence(*, seconds: float = 8.0) -> list[float]:
    return [0.0] * int(seconds * RATE)
