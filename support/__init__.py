"""Support code for the course "Background Jobs in Python". The map, bottom layer first (CONTRIBUTING.md has more):

- ``services/``    the course's processes and their data: state folder, Redis, mail catcher and inbox, the Work-It
                   app and rq-dashboard as services, ``course`` (up / describe / down); what this machine lacks
                   (``doctor``, ``platforms``, ``python_version``)
- ``exercises/``   the exercise framework (``____``, ``Exercise``, ``Choice``); imports nothing else of support
- ``rq_helpers/``  RQ on the course's Redis: queues, workers, waiting on jobs, snapshots, failed jobs, recovery
- ``workit/``      the Work-It app's code: validation, the slow mailer, the Flask app (its own process)
- job modules      ``jobs``, ``active_job``, ``failure_jobs``, ``demo_jobs``, ``export_jobs``, ``production_jobs``,
                   ``ops_jobs``, ``ops_cron_config``: their dotted paths are stored in Redis with each job, so they
                   stay here; ``tiny_queue`` is a program run by ``python -m``
- ``widgets/``     live notebook widgets (form, inbox, dashboard, log view, a worker in a second kernel)
- ``lessons/``     code that one notebook needs for its demonstrations
- ``checks/``      each notebook's exercises
- entry points     ``cli`` (``python -m support``); ``dashboard`` gathers what notebooks call ``dashboard.…``

Notebooks import a module by its subpackage path: ``from support.services import course, inbox``,
``from support.rq_helpers import queues, workers``, ``from support.lessons import timing``.
"""

import builtins
import sys

from .services.platforms import UnsupportedPlatform, here, platform_problem

__version__ = "0.1.0"

# Native Windows, in a notebook: the first cell's import says so in a few plain lines (IPython renders the exception
# with _render_traceback_, never a traceback). Anywhere else the import goes on: ``python -m support`` says it and
# exits (support/__main__.py), and nothing that merely imports the package is ended by it.
if hasattr(builtins, "__IPYTHON__") and (_problem := platform_problem(*here())) is not None:
    raise UnsupportedPlatform(_problem)


def _plain_tracebacks() -> None:
    """In a Jupyter kernel, tracebacks without ANSI colours: JupyterLab shows IPython's red on its error background
    at under 3:1 contrast (axe's color-contrast, in both themes); plain, they take the theme's font colour. nbval
    compares an error's name and value, not its traceback, so stored outputs compare the same."""
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell" and shell.colors != "nocolor":
        shell.run_line_magic("colors", "nocolor")


_plain_tracebacks()
