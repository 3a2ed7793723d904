"""Work-It, the course's web app, as code: the form's validation, the slow GIF mailer, and the Flask app that runs
as its own process (``python -m support.workit.web``; start it with ``support.services.app.start()``). The GIFs it sends
are in ``gifs/``.

Imports: ``support.services`` and ``support.rq_helpers`` (background delivery queues a job by its import path,
``support.jobs.send_gif_email``, without importing the job module).
"""
