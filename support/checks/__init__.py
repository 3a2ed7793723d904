"""The exercises of each notebook, one module per notebook (``support.checks.<notebook>``), built from
``support.exercises``. Notebooks import them by these paths: ``from support.checks.jobs import ex_write_job``.

Imports: anything else in ``support`` (this is the top layer); nothing imports a check module but notebooks and
tests.
"""
