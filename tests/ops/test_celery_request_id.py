"""The request id crosses from the publishing request into the worker (no broker needed)."""

from types import SimpleNamespace

from veza.celery import (
    REQUEST_ID_HEADER,
    _add_request_id_header,
    _clear_request_id,
    _restore_request_id,
)
from veza.logging import request_id_var


def _task(**request):
    return SimpleNamespace(request=SimpleNamespace(is_eager=False, **request))


def test_publishing_inside_a_request_puts_its_id_in_the_headers():
    token = request_id_var.set("rid-publish-1")
    try:
        headers: dict = {}
        _add_request_id_header(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {REQUEST_ID_HEADER: "rid-publish-1"}


def test_publishing_outside_a_request_adds_nothing():
    headers: dict = {}
    _add_request_id_header(headers=headers)
    assert headers == {}


def test_the_worker_restores_the_id_for_the_task_and_clears_it_after():
    task = _task(**{REQUEST_ID_HEADER: "rid-worker-1"})
    _restore_request_id(task_id="t-1", task=task)
    assert request_id_var.get() == "rid-worker-1"
    _clear_request_id(task_id="t-1", task=task)
    assert request_id_var.get() == "-"


def test_a_task_published_by_beat_is_correlated_by_its_task_id():
    _restore_request_id(task_id="t-beat", task=_task())
    assert request_id_var.get() == "t-beat"
    _clear_request_id(task_id="t-beat")
    assert request_id_var.get() == "-"


def test_an_eager_task_keeps_the_id_of_the_request_running_it():
    token = request_id_var.set("rid-eager-7")
    try:
        task = SimpleNamespace(request=SimpleNamespace(is_eager=True))
        _restore_request_id(task_id="t-eager", task=task)
        assert request_id_var.get() == "rid-eager-7"
        _clear_request_id(task_id="t-eager", task=task)
        assert request_id_var.get() == "rid-eager-7"
    finally:
        request_id_var.reset(token)
