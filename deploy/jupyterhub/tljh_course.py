# The Littlest JupyterHub: the course's settings for the hub. Copy this file to
# /opt/tljh/config/jupyterhub_config.d/course.py, then `sudo tljh-config reload`: TLJH loads every *.py file there
# after its own settings (tljh/jupyterhub_config.py). tests/test_hub_image.py loads it with a stand-in for TLJH.
import pwd

from tljh.normalize import generate_system_username

c = get_config()  # noqa: F821 -- JupyterHub's config loader provides it


def course_copy(spawner):
    """The learner's own copy of the course, ~/course: first on Python's path, so that `support` is imported from it
    and its notebooks, exercise files and state folder (.course/: inbox, queues) are the learner's."""
    system_user = generate_system_username("jupyter-" + spawner.user.name)  # as TLJH's UserCreatingSpawner names it
    return pwd.getpwnam(system_user).pw_dir + "/course"


c.Spawner.environment = {"PYTHONPATH": course_copy}
c.Spawner.default_url = "/lab/tree/course/notebooks/01_slow_request.ipynb"
