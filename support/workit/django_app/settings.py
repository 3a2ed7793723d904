"""Django settings of the Work-It project (notebook 12): one app, the course's Redis behind three task backends.

``TASKS`` names the backends a task can run on (Rails: ``config.active_job.queue_adapter``): ``default`` is RQ on
the course's Redis (django-tasks-rq), ``immediate`` runs a task inside ``enqueue()`` (Django's own, for tests),
``database`` stores it in a SQLite file of the course's state folder for ``db_worker`` (django-tasks-db).
"""

import os

from support.services import redis_server, state

# The mailer's slow step, in seconds, for this project's kernel and workers (01's is 5 s): three backends are
# measured one after the other, and the notebook stays short.
os.environ.setdefault("WORKIT_DELAY", "2")

SECRET_KEY = "course-only-not-secret"  # noqa: S105 -- nothing is signed: the project runs on 127.0.0.1 for a lesson
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
ROOT_URLCONF = "support.workit.django_app.urls"
INSTALLED_APPS = ["django_tasks", "django_tasks_db", "django_rq"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(state.home() / "django_workit.sqlite3")}}
QUEUES = ["urgent", "mailers", "default"]
TASKS = {
    "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": QUEUES},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": QUEUES},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES},
}
RQ_QUEUES = {name: {"URL": redis_server.url()} for name in QUEUES}  # the password inside: never print it
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"handlers": [], "level": "WARNING"}}
