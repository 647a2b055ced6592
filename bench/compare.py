"""Two bench results side by side: is each scenario's p50 at scale B within 2x of scale A?

    python -m bench.compare bench/results/A.json bench/results/B.json

Ratios to the ceiling are also shown: the ceiling's own p50 moves with the machine's load,
so the ratio of ratios is the figure least disturbed by whatever else ran at the time.
"""

import json
import sys


def _results(path: str) -> dict:
    with open(path) as fh:
        return json.load(fh)["results"]


def main(small: str, large: str) -> None:
    a, b = (_results(path) for path in (small, large))
    print(
        "| scenario             | p50 ms     A | p50 ms     B | B/A  | ratio A | ratio B "
        "| SQL ms A | SQL ms B |"
    )
    print(
        "|----------------------|--------------|--------------|------|---------|---------"
        "|----------|----------|"
    )
    worst = 0.0
    for name in a:
        if name not in b:
            continue
        pa, pb = a[name]["project"]["p50_ms"], b[name]["project"]["p50_ms"]
        worst = max(worst, pb / pa)
        print(
            f"| {name:<20} | {pa:>12.2f} | {pb:>12.2f} | {pb / pa:>4.2f} "
            f"| {a[name]['ratio_rps']:>7.3f} | {b[name]['ratio_rps']:>7.3f} "
            f"| {a[name].get('sql_ms') or 0:>8.2f} | {b[name].get('sql_ms') or 0:>8.2f} |"
        )
    print(f"largest p50 growth from A to B: {worst:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
