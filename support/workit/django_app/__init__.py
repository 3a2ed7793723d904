"""Work-It as a minimal Django project, for notebook ``12_django_tasks``: the settings (``settings``), the URLs
(``urls``: the form's POST goes to the view the notebook chose), and the reference task and view (``reference``),
which later cells and a worker use when the learner's own files are not ready.

The learner's files live beside the notebook: ``workit_tasks.py`` (the task ``send_gif_email``) and
``workit_views.py`` (the view ``create``). The worker imports ``workit_tasks`` from there: it is started in the
notebook's folder with ``--pythonpath .`` (``support.lessons.django_tasks``).
"""

import os

# Importing the project points Django at its settings (as manage.py does), unless a process chose others: so that
# the reference task, made when its module is imported, finds its backend in any process that imports it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.workit.django_app.settings")
