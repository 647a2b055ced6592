"""Drive the load: gunicorn for the project and for the ceiling, wrk against each in turn.

    python -m bench.run --prepared prepared.json --out results.json [--smoke]

Both servers are started by scripts/bench.sh (same gunicorn.conf.py, same settings); this
alternates ceiling and project per scenario and round, so drift hits both alike, and prints
req/s, p50, p99, p99/p50, SQL statements per request and each ratio to the ceiling.

The tail target: p99 ≤ 5 × p50 for every scenario at the load's 16 connections; a scenario
over it is flagged ``!`` in the table and listed under ``tail_over_target`` in the JSON.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
from datetime import UTC, datetime

WRK = shutil.which("wrk") or "/usr/bin/wrk"
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}
TAIL_TARGET = 5.0  # p99 / p50 at most this, for every scenario


def lua_for(spec: dict) -> str:
    lines = []
    if spec.get("body") is not None:
        lines.append('wrk.method = "POST"')
        lines.append(f"wrk.body = {json.dumps(spec['body'])}")
    for name, value in spec.get("headers", {}).items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    lines.append('wrk.headers["X-Forwarded-Proto"] = "https"')
    return "\n".join(lines) + "\n"


def ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def wrk(url: str, spec: dict, *, seconds: int, threads: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_for(spec))
    try:
        out = subprocess.run(  # noqa: S603 - our own arguments, no shell
            [
                WRK,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def warm_up(url: str, spec: dict, **load) -> None:
    """Unrecorded load until the server has answered some of it: on a busy machine the
    workers' first requests (imports, connections, caches) can outlast a short warm-up, and
    a round that completes nothing measures nothing."""
    for _ in range(5):
        if wrk(url, spec, **load)["rps"] > 0:
            return


def median_run(runs: list[dict]) -> dict:
    median = {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
    }
    median["p99_over_p50"] = (
        round(median["p99_ms"] / median["p50_ms"], 2) if median["p50_ms"] else None
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepared", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--project", default="http://127.0.0.1:8731")
    parser.add_argument("--ceiling", default="http://127.0.0.1:8732")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="unrecorded seconds per server")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--workers", default="", help="the servers' worker kind, e.g. 'sync x2' (for the report)"
    )
    args = parser.parse_args()

    with open(args.prepared) as fh:
        scenarios = json.load(fh)["scenarios"]
    if args.only:
        scenarios = {k: v for k, v in scenarios.items() if k in args.only}
    ceiling_spec = {"path": "/bench/ceiling"}
    load = {"seconds": args.seconds, "threads": args.threads, "connections": args.connections}
    results = {}
    for name, spec in scenarios.items():
        ceiling_runs, project_runs = [], []
        # Unrecorded: every worker imports, connects and fills its caches first.
        warm = {**load, "seconds": args.warmup}
        warm_up(args.ceiling + ceiling_spec["path"], ceiling_spec, **warm)
        warm_up(args.project + spec["path"], spec, **warm)
        for _ in range(args.rounds):
            ceiling_runs.append(wrk(args.ceiling + ceiling_spec["path"], ceiling_spec, **load))
            project_runs.append(wrk(args.project + spec["path"], spec, **load))
        ceiling, project = median_run(ceiling_runs), median_run(project_runs)
        results[name] = {
            "path": spec["path"],
            "status": spec.get("status"),
            "statements": spec.get("statements"),
            "sql_ms": spec.get("sql_ms"),
            "ceiling": ceiling,
            "project": project,
            "ratio_rps": round(project["rps"] / ceiling["rps"], 3) if ceiling["rps"] else None,
        }
        results[name]["tail_over_target"] = (project["p99_over_p50"] or 0) > TAIL_TARGET
        if ceiling["non_2xx"]:
            print(
                f"WARNING: the ceiling answered {ceiling['non_2xx']} non-2xx: its figures are "
                "not the bare view's",
                flush=True,
            )
        print_row(name, results[name], header=len(results) == 1)
    over = [name for name, row in results.items() if row["tail_over_target"]]
    if over:
        print(f"\np99 over {TAIL_TARGET:g} x p50 (the target): {', '.join(over)}")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": f"{args.label}, {args.workers} workers" if args.workers else args.label,
        "workers": args.workers,
        "tail_target": TAIL_TARGET,
        "tail_over_target": over,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "load": {**load, "rounds": args.rounds},
        "results": results,
    }
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=2)
    print(f"\nwritten: {args.out}")


def print_row(name: str, row: dict, *, header: bool) -> None:
    if header:
        print(
            f"| {'scenario':<20} | {'req/s':>8} | {'ceiling':>8} | {'ratio':>5} | "
            f"{'p50 ms':>7} | {'p99 ms':>7} | {'p99/p50':>7} | {'ceil p50':>8} | {'SQL':>3} | "
            f"{'SQL ms':>6} | {'non-2xx':>7} |"
        )
        print(
            f"|{'-' * 22}|{'-' * 10}|{'-' * 10}|{'-' * 7}|{'-' * 9}|{'-' * 9}|{'-' * 9}|"
            f"{'-' * 10}|{'-' * 5}|{'-' * 8}|{'-' * 9}|"
        )
    p, c = row["project"], row["ceiling"]
    tail = p["p99_over_p50"]
    tail_text = "-" if tail is None else f"{tail:.1f}{' !' if row['tail_over_target'] else ''}"
    print(
        f"| {name:<20} | {p['rps']:>8.0f} | {c['rps']:>8.0f} | {row['ratio_rps']:>5.2f} | "
        f"{p['p50_ms']:>7.2f} | {p['p99_ms']:>7.2f} | {tail_text:>7} | {c['p50_ms']:>8.2f} | "
        f"{row['statements']!s:>3} | {row.get('sql_ms') or 0:>6.2f} | {p['non_2xx']:>7} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
