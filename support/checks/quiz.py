"""The closing quiz of 07_check_for_understanding: sixteen questions, each wrong option explained.

Every question is a :class:`~support.exercises.Choice`: answer with its widget, or in code (``q1.check("b")``;
several answers as ``q1.check("a c e")``: a ``ManyChoice``, from ``_quiz_many_choice``). A wrong pick says which
misconception it comes from. Questions 12 to 16, on notebooks 08, 09 and 10, live in ``support.checks.quiz_after``;
``QUESTIONS`` holds all sixteen. Questions 17 to 20 are code, ``support.checks.quiz_code``; ``summary`` counts all
twenty.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..exercises import Choice, Exercise
from ._quiz_many_choice import ManyChoice
from .quiz_after import QUESTIONS as AFTER_THE_TUTORIAL
from .quiz_code import QUESTIONS as CODE_QUESTIONS

q1 = ManyChoice(
    "Question 1",
    "Which of these belong in a background job? Pick every one that does.",
    {
        "a": "Sending the welcome email after someone signs up",
        "b": "Checking the password when someone logs in",
        "c": "Making thumbnails of a photo someone uploaded",
        "d": "Showing the cart's total on the checkout page",
        "e": "Deleting expired sessions every night",
    },
    {"a", "c", "e"},
    explanations={
        "a": "The welcome email is the seed's case: slow (a mail server), and the user does not wait for it to "
        "see the next page.",
        "b": "The user cannot go on until you know whether the password is right: the answer belongs in the "
        "request. A job helps only when the next page does not need its result.",
        "c": 'Resizing images is slow data processing, and the page can show "processing..." until it is done.',
        "d": "The page needs that number to render, and adding up a cart is fast: a job would only add a round trip "
        "and a wait.",
        "e": "Maintenance that no request waits for: a job on a schedule (rq cron, celery beat) does it.",
    },
    hints=["Ask of each one: does the user need the result to see the next page?"],
)

q2 = Choice(
    "Question 2",
    "Redis is killed (kill -9) while 50 jobs wait in its queues. You start it again, with the course's settings "
    "(append-only file on, appendfsync always). What do you find?",
    {
        "a": "Empty queues: Redis keeps its data in memory, so the jobs are gone",
        "b": "The 50 jobs, still queued; a worker can run them",
        "c": "The jobs, but only the ones a worker had already fetched",
        "d": "The jobs, because the web app sends them again when Redis comes back",
    },
    "b",
    explanations={
        "a": 'That is the "Redis is just a cache" idea. Redis keeps its data in memory *and*, with the append-only '
        "file on, writes every change to that file; when it starts, it reads the file back.",
        "b": "With appendfsync always, Redis wrote each job to its append-only file and synced it to the disk before "
        "it answered the enqueue, and a restarted Redis replays that file. That is the course's setting, not the "
        "default: a stock redis.conf or valkey.conf says appendonly no (snapshots only), and a kill -9 then loses "
        "every job enqueued since the last snapshot. Notebook 02 shows both, and what appendfsync everysec can lose. "
        "A queue's Redis also needs maxmemory-policy noeviction: under an allkeys policy, a full Redis evicts keys, "
        "queued jobs included, to make room.",
        "c": "Workers hold no queue: a worker holds at most the one job it is running. The queue lives in Redis, "
        "and Redis kept it in its append-only file.",
        "d": "perform_later is fire-and-forget: once Redis has the job, the app forgets it. Nothing sends it again.",
    },
    hints=["Notebook 02 killed Redis on purpose. What did the append-only file keep?"],
)

q3 = Choice(
    "Question 3",
    "Your only worker dies together with the job it is running (its container is killed: the worker and its work "
    "horse, at once) while it sends email 3 of 10 queued emails. What happens to the emails?",
    {
        "a": "Emails 4 to 10 are lost with the worker",
        "b": 'Emails 4 to 10 wait in Redis for the next worker; email 3\'s job stays "started" until RQ sees that its '
        "worker is gone, then it is marked failed (or retried, if it has retries left)",
        "c": "RQ starts a new worker at once and everything carries on",
        "d": "The next worker finishes email 3 from where the dead one stopped",
    },
    "b",
    explanations={
        "a": "Queued jobs live in Redis, not in the worker. A worker holds only the job it is running.",
        "b": "Nothing queued is lost. The running job's heartbeat stops; RQ then moves it to the failed registry as "
        "abandoned, or retries it when it has retries left. Whether email 3 went out is unknown: check before "
        "you requeue it.",
        "c": "Nothing in RQ restarts a worker whose container died (rq worker-pool restarts the workers under it, but "
        "it dies with the container too). In production a process manager (systemd, supervisor, Docker, "
        "Kubernetes) restarts workers.",
        "d": "A job has no checkpoints: when it runs again, it starts from the top. That is how an email can go out "
        "twice.",
    },
    hints=["Where do queued jobs live: in the worker, or in Redis?"],
)

q4 = Choice(
    "Question 4",
    'You define def shout(text): ... in a notebook cell and call queue.enqueue(shout, "hi"). RQ raises '
    "ValueError at once. Why?",
    {
        "a": "Functions written in notebooks are too slow for a worker",
        "b": "The worker is another process: it finds a job's code by importing its module, and a cell's function "
        "lives in __main__, your kernel, which no worker can import",
        "c": "Redis cannot store Python functions, only strings",
        "d": "The worker sees your notebook's variables, but not its functions",
    },
    "b",
    explanations={
        "a": "Speed has nothing to do with it: the same code in a module file works.",
        "b": "A job is only an import path, like shouting.shout, plus its arguments. The worker imports that path; "
        "__main__.shout exists only inside your kernel. Put the function in a .py file and import it.",
        "c": "Redis never stores a job's code, whether it comes from a module or not: RQ stores the function's "
        "import path and the arguments. The trouble is that __main__.shout has no path a worker can import.",
        "d": "The worker sees nothing of your notebook, variables included. Everything a job needs must come as its "
        "arguments or be importable.",
    },
    hints=["How does a worker, a different process, find the code it should run?"],
)

q5 = Choice(
    "Question 5",
    "The Work-It request handler calls GifSenderJob.perform_now(email, thought). What happens?",
    {
        "a": "The email is sent inside the request: the user waits the full 5 seconds",
        "b": "The job is written to Redis and a worker sends it right away",
        "c": "The job runs in a background thread of the web app",
        "d": "It raises an error unless a worker is running",
    },
    "a",
    explanations={
        "a": "perform_now calls perform() here and now, in the calling process, like calling the function: no Redis, "
        "no worker. Useful in tests and scripts; in a slow request it is the problem we started with.",
        "b": "That is perform_later. perform_now never touches the queue.",
        "c": "Nothing runs in the background with perform_now: the caller blocks until perform() returns.",
        "d": "perform_now needs neither a worker nor Redis. perform_later needs Redis (and a worker, to get the "
        "work done).",
    },
    hints=['"now" and "later" describe when the work happens, and where.'],
)

q6 = Choice(
    "Question 6",
    "A worker listens to urgent, mailers, default (in that order). It is running a default job; 10 more default jobs "
    "wait; then one urgent job arrives. What runs next?",
    {
        "a": "The urgent job, at once: it interrupts the running job",
        "b": "The 10 default jobs, then the urgent one: first come, first served",
        "c": "The urgent job, as soon as the running job is finished",
        "d": "The urgent job, on an extra worker that RQ starts for it",
    },
    "c",
    explanations={
        "a": "RQ never interrupts a running job for another one; the worker finishes what it is doing first.",
        "b": "First come, first served holds within one queue. Between queues, the worker always looks at urgent "
        "first.",
        "c": "Before each job, the worker checks its queues in order: urgent is not empty, so it goes first. The "
        "running job is never interrupted.",
        "d": "RQ starts no workers by itself. Priority is only the order in which each worker checks its queues.",
    },
    hints=["When does a worker look at its queues: all the time, or between jobs?"],
)

q7 = Choice(
    "Question 7",
    "A worker sends the welcome email, then is killed before it can record the job as finished. The job runs again. "
    "What does this tell you, and what do you do?",
    {
        "a": "Nothing to do: RQ guarantees that every job runs exactly once",
        "b": "The email can go out twice: make the job idempotent, so that a second run finds the email already "
        "recorded as sent and skips it",
        "c": "The email was lost: send it again by hand",
        "d": "Switch to SimpleWorker, which cannot be killed mid-job",
    },
    "b",
    explanations={
        "a": "No queue can promise that across crashes: a worker can die after the email left but before Redis "
        "heard about it. What you get is at-least-once delivery.",
        "b": "At-least-once means a job may run more than once. An idempotent job does no extra harm the second time: "
        "it checks a record of what was already done, such as an idempotency key (notebook 05).",
        "c": "The job ran again, so the email was not lost: the risk is the opposite, a duplicate.",
        "d": "Any process can be killed. The worker class does not change what a crash at the wrong moment does.",
    },
    hints=["The worker died between two steps: the email left, the job was not yet marked done."],
)

q8 = Choice(
    "Question 8",
    "Where does a worker get the code of the job it runs?",
    {
        "a": "From Redis: the job carries its code",
        "b": "From the web app, over the network, when the job starts",
        "c": "It imports the job's module by name, from its own environment and working folder (its --path), as the "
        "file is on the worker's disk",
        "d": "From the memory of the kernel that enqueued it",
    },
    "c",
    explanations={
        "a": "Redis holds the function's import path (like support.jobs.send_gif_email) and the arguments, never the "
        "code.",
        "b": "The app and the worker never talk to each other: Redis is their only link.",
        "c": "So the worker's machine needs the same code, in the same version, as the app. And a SimpleWorker keeps "
        "whatever version it imported first (notebook 06).",
        "d": "The kernel is just one more client of Redis; no other process can read its memory.",
    },
    hints=["What exactly does Redis store for a job?"],
)

q9 = Choice(
    "Question 9",
    "The dashboard shows failed: 3 for the mailers queue. What does that tell you?",
    {
        "a": "Three jobs are being retried right now",
        "b": "Three jobs ended badly (raised an exception, timed out, or lost their worker) and have no retries left; "
        "they stay in the failed registry until you requeue or delete them",
        "c": "Three workers crashed",
        "d": "Three emails are lost for good",
    },
    "b",
    explanations={
        "a": "A job waiting for a retry is scheduled (or queued again), not failed. A job lands in failed when it has "
        "no retries left.",
        "b": "Each failed job keeps its function, arguments and error. Read the error, fix the cause, then requeue "
        "(from the dashboard, or in code). RQ deletes them on its own only after a year, by default.",
        "c": "The counts are about jobs, not workers; the workers list shows who is alive.",
        "d": "A failed job keeps everything it needs to run again: requeue it and it does.",
    },
    hints=["Failed is a registry of jobs. What does a job need to be put back on its queue?"],
)

q10 = Choice(
    "Question 10",
    "A job was enqueued with retry=Retry(max=3, interval=10). The mail server is down; your only worker is "
    "rq worker --burst, started without --with-scheduler. What happens after the first failure?",
    {
        "a": "The job is retried 3 times, 10 seconds apart, and then fails",
        "b": "The retry is scheduled for 10 s later; the burst worker quits, and nothing runs the job again until a "
        "worker with the scheduler starts",
        "c": "RQ ignores the interval and retries at once",
        "d": "The web app notices the failure and enqueues the job again",
    },
    "b",
    explanations={
        "a": "That needs a scheduler to put the job back on the queue after each wait. Without one, the first retry "
        "waits in the ScheduledJobRegistry for as long as no scheduler runs.",
        "b": "A retry with an interval is a scheduled job, and scheduled jobs need a scheduler (notebook 06).",
        "c": "With an interval, RQ schedules the retry. Only Retry(max=3) without an interval puts the job straight "
        "back on the queue, with no scheduler needed.",
        "d": "The web app forgot the job when it enqueued it; retries are the worker's business.",
    },
    hints=["In notebook 06, what happened to a due job when the only worker had no scheduler?"],
)

q11 = Choice(
    "Question 11",
    "The seed lesson says ActiveJob is similar to ActiveRecord. In what way?",
    {
        "a": "Both keep their data in the app's SQL database",
        "b": "Both are one interface over interchangeable backends chosen in configuration: database adapters for "
        "ActiveRecord, queue adapters (Sidekiq, Resque, ...) for ActiveJob",
        "c": "Both run code in the background",
        "d": "Both need a worker process to be running",
    },
    "b",
    explanations={
        "a": "ActiveJob stores nothing itself: the adapter's backend does (Redis, for Sidekiq).",
        "b": "You write perform_later once; one setting decides who runs it. In this course: support.active_job "
        'with set_queue_adapter("rq" or "inline"); in Django: django.tasks and its backends.',
        "c": "ActiveRecord talks to the database in the calling process; only ActiveJob's perform_later hands work "
        "to another process.",
        "d": "A database needs a server, not a worker. And ActiveJob with the inline adapter needs neither.",
    },
    hints=["What does config.active_job.queue_adapter = :sidekiq change, and what stays the same?"],
)

QUESTIONS: list[Choice] = [q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, *AFTER_THE_TUTORIAL]
EVERY_QUESTION: list[Exercise] = [*QUESTIONS, *CODE_QUESTIONS]


def summary(questions: Sequence[Exercise] = EVERY_QUESTION) -> str:
    """How the quiz went, from each question's last check (deterministic: safe to print)."""
    kinds = [q.last_result.kind if q.last_result is not None else "not_attempted" for q in questions]
    right, wrong = kinds.count("correct"), kinds.count("incorrect")
    line = f"Correct: {right} of {len(questions)}"
    if wrong:
        line += "; to look at again: " + ", ".join(q.name for q, k in zip(questions, kinds) if k == "incorrect")
    if right + wrong < len(questions):
        line += f"; not answered yet: {len(questions) - right - wrong}"
    return line
