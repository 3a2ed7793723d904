"""The project's one URL: the form's POST, ``/thoughts/``, answered by the view the notebook chose."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import path

from . import reference

# the view /thoughts/ runs: the notebook puts the learner's here once it checks (use_view)
VIEW: list[Callable[[HttpRequest], HttpResponse]] = [reference.create]


def thoughts(request: HttpRequest) -> HttpResponse:
    return VIEW[0](request)


urlpatterns = [path("thoughts/", thoughts)]


def use_view(view: Callable[[HttpRequest], HttpResponse]) -> None:
    """The view ``/thoughts/`` runs from now on in this process."""
    VIEW[0] = view
