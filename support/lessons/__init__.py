"""Code that one notebook needs for its demonstrations; each module's docstring names its notebook.

``timing`` (01, 03), ``redis_tour`` (02), ``kernels`` (03: one worker kernel per notebook), ``scaling`` (06),
``figures`` (plots with alt text: 01, 03, 06).
The other lesson code is at the top of ``support`` because its import path is part of the lesson: the job modules
``support.failure_jobs`` (05) and ``support.demo_jobs`` (06), whose paths are stored in Redis with each job, and
``support.tiny_queue`` (02), a program run as ``python -m support.tiny_queue``.

Imports: anything below (services, rq_helpers, workit, the job modules, widgets); never a check.
"""
