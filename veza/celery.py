"""The Celery app. Without CELERY_BROKER_URL tasks run eagerly in-process (see settings).

The request id of the HTTP request (or task) that publishes a task travels in the message
headers and is restored in the worker around the task, so a task's log lines can be found
from the request that caused them.
"""

import logging.config
import os

from celery import Celery, signals

from veza.logging import request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")

app = Celery("veza")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "veza_request_id"
_NO_REQUEST_ID = request_id_var.get()  # the contextvar's default ("-")
_tokens: dict[str, object] = {}


@signals.setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """The worker and beat log through settings.LOGGING (JSON in production, request id on
    every line) instead of Celery's own root-logger set-up."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _add_request_id_header(headers=None, **kwargs) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id != _NO_REQUEST_ID:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect
def _restore_request_id(task_id=None, task=None, **kwargs) -> None:
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) if task else None
    if request_id is None and not (task and task.request.is_eager):
        # Published outside any request (beat, a shell): the task id correlates its lines.
        request_id = task_id
    if request_id and task_id:
        _tokens[task_id] = request_id_var.set(request_id)


@signals.task_postrun.connect
def _clear_request_id(task_id=None, **kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a pool that switches threads)
            request_id_var.set(_NO_REQUEST_ID)
