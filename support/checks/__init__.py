"""The exercises of each notebook, one module per notebook (``support.checks.jobs`` for 03_jobs, ...)."""
