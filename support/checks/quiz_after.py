"""Questions 12 to 16 of 07_check_for_understanding: after the tutorial, on notebooks 08, 09 and 10.

Like the first eleven (``support.checks.quiz``), each is a :class:`~support.exercises.Choice` whose wrong options
say which misconception they come from. ``support.checks.quiz`` counts them in its ``QUESTIONS`` and ``summary``.
"""

from __future__ import annotations

from ..exercises import Choice

q12 = Choice(
    "Question 12",
    "An export job finished at 10:00 with RQ's default result_ttl. At 10:30 the user opens the status link the page "
    "gave them, and the app calls Job.fetch(job_id). What happens, and what should the page say?",
    {
        "a": "It returns the result: RQ keeps finished jobs until someone deletes them",
        "b": "Job.fetch raises NoSuchJobError, because RQ deleted the finished job and its result after 500 seconds: "
        "the page should say the result is gone (or was never there) and offer to run the export again",
        "c": "The job runs again, so that the result is there when asked for",
        "d": "It returns None, the same as for a job that is still running",
    },
    "b",
    explanations={
        "a": "That is failure_ttl's way (a year, by default). A finished job and its result are kept for result_ttl, "
        "500 seconds unless you say otherwise.",
        "b": "After result_ttl the job's key and its result are gone, so fetching it fails like fetching an id that "
        "never existed (notebook 08). Keep results for as long as the page may ask (result_ttl=...), or store "
        "what matters somewhere of your own, and answer an unknown id with a clear page, not a 500.",
        "c": "RQ never runs a job again by itself because someone asked for its result: it no longer knows the job.",
        "d": "A running job can be fetched, and its return_value() is None until it finishes. An expired job cannot be "
        "fetched at all.",
    },
    hints=["What is result_ttl when you do not set it, and what is left of a job after it?"],
)

q13 = Choice(
    "Question 13",
    "Job B was enqueued with depends_on=A. A raises an exception and has no retries left. What happens to B?",
    {
        "a": "B runs anyway, right after A fails",
        "b": "B is deleted together with A",
        "c": "B stays deferred and never runs by itself: a dependency must finish for its dependents to run, unless "
        "B was enqueued with Dependency(jobs=[A], allow_failure=True)",
        "d": "B fails too, with A's exception",
    },
    "c",
    explanations={
        "a": "Only when B said it may: Dependency(jobs=[A], allow_failure=True). By default RQ enqueues a dependent "
        "when all its dependencies have finished, and a failed job has not.",
        "b": "RQ deletes nothing here. A goes to the failed registry; B waits in the deferred registry.",
        "c": "B waits in the deferred registry (notebook 08). Requeue A and, when it finishes, B runs; or let B run "
        "after a failure on purpose, with allow_failure=True.",
        "d": "B never starts, so it cannot fail: it waits, deferred, for a parent that will not finish.",
    },
    hints=["A dependent runs when its dependencies have finished. Has a failed job finished?"],
)

q14 = Choice(
    "Question 14",
    "A view inserts a row in a database transaction and, still inside it, enqueues a job that reads that row by id. "
    "Then the transaction rolls back (a later step failed). What does the worker find?",
    {
        "a": "Nothing happens: the rollback takes the job back out of Redis too",
        "b": "The job runs and finds no row. Redis is not part of the database's transaction, so the job was queued "
        "for a row that never existed; enqueue after the commit, or write an outbox row in the same transaction",
        "c": "The row, because the worker reads it before the rollback",
        "d": "The job waits in the queue until the transaction commits",
    },
    "b",
    explanations={
        "a": "Redis knows nothing of the database's transaction: the job was queued the moment enqueue returned, and "
        "no rollback reaches it.",
        "b": "The enqueue and the insert are two systems, and only the insert was rolled back (notebook 09, "
        '"Enqueue after commit"). Enqueue once the commit has happened, or insert an outbox row in the same '
        "transaction and let a relay queue it: then a rolled-back row has no job, and a job always has its row.",
        "c": "Until the commit, other connections cannot see the row at all: a worker that is fast finds nothing "
        "either, even when the transaction commits later.",
        "d": "RQ does not know the transaction exists: a worker takes the job as soon as it is queued.",
    },
    hints=["Which of the two, the database or Redis, does the rollback undo?"],
)

q15 = Choice(
    "Question 15",
    "A deploy sends SIGTERM to an rq worker that is 20 s into a 60 s job, and kills its container (the worker and "
    "its work horse) 10 seconds later. What happens to the job, and what should the deploy do instead?",
    {
        "a": "Nothing is lost: SIGTERM makes the worker put the job back on the queue",
        "b": "SIGTERM asked for a warm shutdown (finish the job, then exit); the kill cut it off mid-job, so the job "
        "is left started until RQ finds it abandoned. Wait at least as long as the longest job takes after "
        "SIGTERM before anything harder",
        "c": "The job finished: SIGTERM makes the worker hurry",
        "d": "The job moves to another worker and carries on where it stopped",
    },
    "b",
    explanations={
        "a": "A warm shutdown does not requeue anything: it lets the running job finish, takes no new one, and exits.",
        "b": "A deploy's grace period (systemd's TimeoutStopSec, Kubernetes' terminationGracePeriodSeconds) must be "
        "longer than your longest job_timeout, or deploys abandon jobs. And only the worker may get the SIGTERM: RQ "
        "gives its work horse the default SIGTERM action, so a SIGTERM sent to every process of the service (systemd's "
        "default, KillMode=control-group) kills the job at once. Use KillMode=mixed; in a container, make the worker "
        "PID 1 (exec rq worker ...). A second SIGTERM (at least a second after the first) is a cold shutdown: RQ "
        'kills the job itself. Notebook 10, "How a deploy should stop workers", shows it.',
        "c": "Nothing makes a job hurry: the worker only stops taking new jobs and waits for this one, for 40 s more.",
        "d": "A job has no checkpoints: when it runs again, on any worker, it starts from the top.",
    },
    hints=['Warm means "finish what you are doing". How long does this job still need?'],
)

q16 = Choice(
    "Question 16",
    "queue.enqueue(send_welcome, user), with RQ's default serializer, passes a User object. Before the worker gets "
    "to the job, the user changes their email address in the database. Which address does the job use?",
    {
        "a": "The new one: the worker reads the object from the app's memory",
        "b": "The old one: RQ pickled the object when it was enqueued, and the worker unpickles that copy. Pass the "
        "user's id and load the user in the job",
        "c": "Neither: RQ refuses objects as arguments",
        "d": "The new one: pickle stores a reference to the database row",
    },
    "b",
    explanations={
        "a": "The worker is another process: it gets only what Redis holds for the job, never the app's memory.",
        "b": "A job's arguments are a snapshot taken at enqueue time. With an id the job reads what is true when it "
        "runs; and with an id, RQ's JSONSerializer can store the arguments instead of pickle (notebook 09, "
        '"What goes into a job").',
        "c": "The default serializer, pickle, takes almost any object. The JSON serializer would refuse it, at "
        "enqueue time.",
        "d": "pickle copies the object's attributes as they are; it knows nothing of databases.",
    },
    hints=["When are a job's arguments turned into bytes, and who reads those bytes later?"],
)

QUESTIONS: list[Choice] = [q12, q13, q14, q15, q16]
