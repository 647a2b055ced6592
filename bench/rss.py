"""Worker memory under a long mixed load: RSS of every gunicorn worker at half and at the end.

    python -m bench.rss --prepared prepared.json --project URL --master-pid PID \
        --requests 10000 --out rss.json

The scenarios of ``bench.prepare`` (lists anonymous and signed in, every ordering and filter,
the webhook replay) are sent in turn over keep-alive connections, the lists across fifty
pages, so that caches, querysets and serializers of many shapes pass through the workers.
"""

import argparse
import http.client
import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

CLIENTS = 4


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def drive(base: str, scenarios: list[dict], count: int, offset: int, errors: list) -> None:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for i in range(offset, offset + count):
        spec = scenarios[i % len(scenarios)]
        path = spec["path"]
        if "tracks" in path:
            path += f"&page={i // len(scenarios) % 50 + 1}"
        headers = {"X-Forwarded-Proto": "https", **spec.get("headers", {})}
        body = spec.get("body")
        try:
            conn.request("POST" if body else "GET", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 500:
                errors.append(f"{response.status} {path}")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__} {path}")
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.close()


def load(base: str, scenarios: list[dict], requests: int, start: int, errors: list) -> None:
    each = requests // CLIENTS
    threads = [
        threading.Thread(target=drive, args=(base, scenarios, each, start + n * each, errors))
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepared", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--master-pid", type=int, required=True)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    scenarios = list(json.loads(Path(args.prepared).read_text())["scenarios"].values())
    errors: list[str] = []
    half = args.requests // 2
    load(args.project, scenarios, half, 0, errors)
    at_half = {pid: rss_mib(pid) for pid in workers_of(args.master_pid)}
    load(args.project, scenarios, args.requests - half, half, errors)
    at_end = {pid: rss_mib(pid) for pid in workers_of(args.master_pid)}
    rows = [
        {"pid": pid, "half_mib": at_half.get(pid, 0.0), "end_mib": mib}
        for pid, mib in sorted(at_end.items())
    ]
    largest = max(row["end_mib"] for row in rows)
    growth = max(
        (row["end_mib"] - row["half_mib"]) / row["half_mib"] * 100
        for row in rows
        if row["half_mib"]
    )
    report = {
        "requests": args.requests,
        "errors": len(errors),
        "first_errors": errors[:5],
        "workers": rows,
        "largest_mib": round(largest, 1),
        "largest_growth_over_second_half_pct": round(growth, 2),
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"{args.requests:,} mixed requests over {len(rows)} workers, {len(errors)} errors")
    for row in rows:
        half, end = row["half_mib"], row["end_mib"]
        print(f"  worker {row['pid']}: {half:.1f} MiB at half, {end:.1f} MiB at the end")
    print(f"largest {largest:.1f} MiB; largest growth over the second half {growth:.2f} %")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
