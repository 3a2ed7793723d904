"""The reference task and view of notebook 12 (what the exercises' solutions say): later cells and a worker use
them when the learner's ``workit_tasks.py`` or ``workit_views.py`` is not ready. The task's dotted path,
``support.workit.django_app.reference.send_gif_email``, is stored with every job queued for it: never move it."""

from django.http import HttpRequest, JsonResponse
from django_tasks import task

from support.workit.mailer import deliver


@task(queue_name="mailers")
def send_gif_email(email: str, thought: str) -> str:
    return deliver(email, thought)


def create(request: HttpRequest) -> JsonResponse:
    email, thought = request.POST["email"], request.POST["thought"]
    result = send_gif_email.enqueue(email, thought)
    return JsonResponse({"task_id": result.id, "status": result.status})
