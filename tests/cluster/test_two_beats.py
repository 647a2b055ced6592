"""Two beat schedulers started by mistake over a compressed schedule: every job is sent once
per tick -- one beat leads (the lock in Redis), the other stands by, and takes over without a
double when the leader is SIGKILLed."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import datetime

import redis

from tests.cluster.conftest import ROOT

# Seconds between ticks of each compressed job (their settings' variables).
INTERVALS = {
    "sweep-webhook-outbox": ("WEBHOOK_SWEEP_INTERVAL", 1),
    "release-seller-money": ("RELEASE_INTERVAL", 2),
    "reconcile-pending-refunds": ("REFUND_RECONCILE_INTERVAL", 2),
    "reconcile-pending-payouts": ("PAYOUT_RECONCILE_INTERVAL", 3),
}
LOCK_SECONDS = 5
PHASE_SECONDS = 15
SENT = re.compile(r"^(\S+ \S+) INFO .*Sending due task (\S+) ")


def _sent(log) -> list[tuple[float, str]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = SENT.match(line)
        if match:
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            found.append((at, match.group(2)))
    return found


def test_two_beats_send_each_job_once_per_tick_and_hand_over_when_the_leader_dies(
    cluster, app_env, tmp_path
):
    queue = f"beat-test-{uuid.uuid4().hex[:8]}"  # no worker consumes it: we count messages
    env = {
        **app_env,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "BEAT_LOCK_KEY": f"veza:beat-leader:{queue}",
        "BEAT_LOCK_SECONDS": str(LOCK_SECONDS),
        **{variable: str(seconds) for variable, seconds in INTERVALS.values()},
    }
    beats, logs = [], []
    try:
        for n in range(2):
            log = tmp_path / f"beat-{n}.log"
            beats.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "veza",
                        "beat",
                        "--loglevel=INFO",
                        "--schedule",
                        str(tmp_path / f"schedule-{n}"),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            logs.append(log)
            time.sleep(0.5)
        time.sleep(PHASE_SECONDS)
        first_phase = [_sent(log) for log in logs]
        senders = [n for n, sent in enumerate(first_phase) if sent]
        assert len(senders) == 1, f"both beats sent jobs: {first_phase}"
        leader, follower = senders[0], 1 - senders[0]

        killed_at = time.time()
        os.killpg(beats[leader].pid, signal.SIGKILL)  # no clean release: the lock must expire
        time.sleep(PHASE_SECONDS)
    finally:
        for beat in beats:
            if beat.poll() is None:
                os.killpg(beat.pid, signal.SIGTERM)
                beat.wait(timeout=20)

    sent = sorted(_sent(logs[0]) + _sent(logs[1]))
    taken_over = [at for at, _ in _sent(logs[follower])]
    assert taken_over and min(taken_over) > killed_at, "the standby beat never took over"
    assert min(taken_over) - killed_at <= LOCK_SECONDS + 2

    by_job = defaultdict(list)
    for at, job in sent:
        by_job[job].append(at)
    for job, (_, interval) in INTERVALS.items():
        times = by_job[job]
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        # Once per tick: never two sends of a job closer than its interval (90 % for jitter)...
        assert min(gaps) >= interval * 0.9, (job, gaps)
        # ... and a tick missed only while the dead leader's lock was running out.
        expected = (2 * PHASE_SECONDS - LOCK_SECONDS - 2) / interval
        assert len(times) >= expected * 0.8, (job, len(times), expected)

    # Every logged send is one message on the broker, and nothing else was sent.
    broker = redis.Redis.from_url(cluster["CLUSTER_REDIS"] + "/1")
    try:
        assert broker.llen(queue) == len(sent)
    finally:
        broker.delete(queue)
