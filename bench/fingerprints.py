"""What the re-upload check costs and how often it is wrong (README "Trust and safety").

    .venv/bin/python -m bench.fingerprints [--recordings 40] [--blocked 1000]

On N distinct generated recordings (``bench.recordings``) and their disguised copies (quieter,
2.5 s of silence in front, re-encoded as MP3):
- cost per upload: hashing and ``fpcalc`` of one upload (a 12 s WAV, and a 3-minute one), and
  the comparison against a blocklist of ``--blocked`` prints;
- false matches: every ordered pair of distinct recordings (originals and copies), compared
  as the upload check compares them; also the lowest bit-error rate found when every offset is
  tried, to show the margin under MATCH_BER;
- true matches: each disguised copy against its original.
"""

import argparse
import io
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")
os.environ.setdefault("APP_ENV", "test")
django.setup()

from bench import recordings  # noqa: E402
from moderation import fingerprints  # noqa: E402


def _print(content: bytes, suffix: str) -> fingerprints.AudioPrint:
    return fingerprints.print_of_stream(io.BytesIO(content), suffix=suffix)


def _lowest_ber_any_offset(a: list[int], b: list[int]) -> float:
    best = 1.0
    for offset in range(-len(b) + fingerprints.MIN_OVERLAP, len(a) - fingerprints.MIN_OVERLAP):
        ber, compared = fingerprints.bit_error_rate(a, b, offset)
        if compared >= fingerprints.MIN_OVERLAP:
            best = min(best, ber)
    return best


def _noise_false_matches(count: int) -> tuple[int, int]:
    import random

    prints = []
    for seed in range(min(count, 12)):
        rng = random.Random(seed)
        samples = [rng.uniform(-0.5, 0.5) for _ in range(recordings.RATE * 10)]
        prints.append(_print(recordings.wav_file(recordings.pcm16(samples)), ".wav").fingerprint)
    pairs = [(a, b) for i, a in enumerate(prints) for j, b in enumerate(prints) if i != j]
    return len(pairs), sum(fingerprints.same_recording(a, b) for a, b in pairs)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recordings", type=int, default=40)
    parser.add_argument("--blocked", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    if fingerprints.fpcalc_path() is None:
        raise SystemExit("fpcalc is not installed (Debian's libchromaprint-tools)")

    length = args.seconds
    originals = [recordings.original(seed, seconds=length) for seed in range(args.recordings)]
    copies = [recordings.variant(seed, seconds=length) for seed in range(args.recordings)]
    timings = []
    prints = []
    for content in originals:
        started = time.perf_counter()
        prints.append(_print(content, ".wav").fingerprint)
        timings.append(time.perf_counter() - started)
    copy_prints = [_print(content, ".mp3").fingerprint for content in copies]
    long_wav = recordings.wav_file(recordings.pcm16(recordings.melody(1000, seconds=180.0)))
    started = time.perf_counter()
    long_print = _print(long_wav, ".wav").fingerprint
    long_cost = time.perf_counter() - started

    blocklist = [prints[i % len(prints)] for i in range(args.blocked)]
    query = _print(recordings.original(args.recordings + 1, seconds=length), ".wav").fingerprint
    started = time.perf_counter()
    for blocked in blocklist:
        fingerprints.same_recording(query, blocked)
    compare_cost = time.perf_counter() - started
    started = time.perf_counter()
    for blocked in blocklist[:100]:
        fingerprints.same_recording(long_print, blocked)
    long_compare_cost = (time.perf_counter() - started) / 100

    everything = prints + copy_prints
    pairs = false_matches = 0
    lowest_checked, lowest_any, highest_share = 1.0, 1.0, 0.0
    for i, a in enumerate(everything):
        for j, b in enumerate(everything):
            if i % args.recordings == j % args.recordings:
                continue  # the same recording (itself or its copy)
            pairs += 1
            for found in fingerprints.alignments(a, b):
                lowest_checked = min(lowest_checked, found.bit_error_rate)
                highest_share = max(highest_share, 1 - found.bit_error_rate / found.chance)
            false_matches += fingerprints.same_recording(a, b)
    sample = everything[: min(12, len(everything))]
    for i, a in enumerate(sample):
        for j, b in enumerate(sample):
            if i != j:
                lowest_any = min(lowest_any, _lowest_ber_any_offset(a, b))
    true_bers = [fingerprints.best_match(c, o) for c, o in zip(copy_prints, prints, strict=True)]
    noise_pairs, noise_false = _noise_false_matches(args.recordings)
    true_matches = sum(ber <= fingerprints.MATCH_BER for ber in true_bers)

    print(f"recordings: {args.recordings} distinct, {length:g} s each, + their disguised copies")
    print(
        f"hash + fpcalc per {length:g} s WAV upload: median {_ms(statistics.median(timings))}, "
        f"max {_ms(max(timings))}"
    )
    print(f"hash + fpcalc of a 3-minute WAV ({len(long_wav) // 1024} KiB): {_ms(long_cost)}")
    print(
        f"compare one {length:g} s upload with {args.blocked} blocked prints: {_ms(compare_cost)} "
        f"({compare_cost / args.blocked * 1e6:.0f} µs each); a 3-minute upload: "
        f"{long_compare_cost * 1e6:.0f} µs per blocked print"
    )
    print(
        f"false matches: {false_matches} of {pairs} pairs of distinct recordings "
        f"(rate {false_matches / pairs:.4%}); lowest BER at a candidate alignment "
        f"{lowest_checked:.3f}, lowest at any offset (first {len(sample)} prints) "
        f"{lowest_any:.3f}; thresholds BER <= {fingerprints.MATCH_BER} and <= "
        f"{fingerprints.MAX_SHARE_OF_CHANCE:.0%} of chance (closest pair: "
        f"{1 - highest_share:.0%} of chance)"
    )
    print(
        f"white noise: {noise_false} false matches of {noise_pairs} pairs of distinct noises "
        "(raw bit-error rates near 0.15: why the chance-relative threshold)"
    )
    print(
        f"true matches: {true_matches} of {len(true_bers)} disguised copies refused "
        f"(BER median {statistics.median(true_bers):.3f}, max {max(true_bers):.3f})"
    )


if __name__ == "__main__":
    main()
