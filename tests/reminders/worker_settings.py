"""Settings for the Celery worker the reminder tests start: the project's own, on a private queue.

The queue name is unique per test, so a `make run` worker or another helper's
test on the same broker never takes these messages, and the worker's
dispatcher queues its sender batches where this worker listens.
"""

import os

from stretchhub.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["REMINDERS_TEST_QUEUE"]
