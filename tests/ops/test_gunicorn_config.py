"""gunicorn.conf.py: sane defaults, every value overridable from the environment."""

import runpy

from tests.ops.conftest import ROOT

CONF = str(ROOT / "gunicorn.conf.py")


def _load(monkeypatch, **env) -> dict:
    for name in list(__import__("os").environ):
        if name.startswith("GUNICORN_") or name == "PORT":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONF)


def test_defaults(monkeypatch):
    conf = _load(monkeypatch)
    assert conf["bind"] == "0.0.0.0:8000"
    assert 1 <= conf["workers"] <= 8
    assert conf["threads"] == 4
    assert conf["timeout"] == 30
    assert conf["graceful_timeout"] == 30
    assert conf["keepalive"] == 5
    # No recycling: a recycling gthread worker drops requests (test_gunicorn_recycling.py).
    assert (conf["worker_class"], conf["max_requests"]) == ("gthread", 0)
    assert conf["accesslog"] == "-"
    assert conf["preload_app"] is False
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    assert "%(q)s" not in conf["access_log_format"]  # query strings may carry signatures


def test_environment_overrides(monkeypatch):
    conf = _load(
        monkeypatch,
        PORT="9000",
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="8",
        GUNICORN_TIMEOUT="120",
        GUNICORN_GRACEFUL_TIMEOUT="45",
        GUNICORN_KEEPALIVE="75",
        GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.1,10.0.0.2",
    )
    assert conf["bind"] == "0.0.0.0:9000"
    assert (conf["workers"], conf["threads"]) == (3, 8)
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (120, 45, 75)
    assert conf["forwarded_allow_ips"] == "10.0.0.1,10.0.0.2"


def test_explicit_bind_wins_over_port(monkeypatch):
    conf = _load(monkeypatch, PORT="9000", GUNICORN_BIND="unix:/run/veza.sock")
    assert conf["bind"] == "unix:/run/veza.sock"


def test_gunicorn_accepts_the_file():
    from gunicorn.config import Config

    config = Config()
    for key, value in runpy.run_path(CONF).items():
        if key in config.settings:
            config.set(key, value)
    assert config.worker_class_str == "gthread"
