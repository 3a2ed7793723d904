"""Exercises of 01_slow_request: time the real form yourself and decide from the time, predict three users in line,
and sort work into "background" or "request".

Exercise 1's check submits Work-It's real form through the learner's function three times: a good address (its email
counted in the real inbox, its thought read in it), the malformed 'ada@' sent while that first request is still
running (refused, but only after waiting in line: slow), and 'ada@' alone (refused at once). It holds each returned
field to what really happened, on its own clock around each call: a constant, or a verdict read from the status,
cannot pass.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ..exercises import (
    Choice,
    Exercise,
    Incorrect,
    NotAttempted,
    describe,
    is_placeholder,
    require_function,
)
from ..services import app
from ._slow_request_runs import (
    IN_LINE,
    LINE_AFTER,
    MALFORMED,
    REFUSED_THOUGHT,
    TOO_SLOW,
    _check_background,
    _check_seconds,
    _check_status,
    _emails_to,
    _in_line,
    _posted,
    _services,
    _timed,
)

# --- Exercise 1: time the form yourself -------------------------------------------------------------------------


def reference_time_form(email: str, thought: str) -> dict[str, Any]:
    """Submit Work-It's form once; the HTTP status, the seconds the user waited, and whether that is too slow."""
    start = time.perf_counter()
    reply = app.post_thought(email, thought)
    seconds = time.perf_counter() - start
    return {"status": reply["status"], "seconds": seconds, "background": seconds > TOO_SLOW}


def _check_time_form(time_form: Any) -> str:
    require_function(time_form, "time_form", ("email", "thought"))
    delay = _services()
    token = uuid.uuid4().hex[:8]
    address, thought = f"timing-{token}@example.com", f"Timing my own request, number {token}"
    # The good address, and behind it in line the malformed one: Work-It serves one request at a time.
    (good, outer), (behind, behind_outer) = _in_line(time_form, lambda: _timed(time_form, address, thought))
    sent = _emails_to(address)
    if not sent:
        raise Incorrect(
            "No email reached the inbox for the address time_form was given: submit Work-It's form with "
            "app.post_thought(email, thought), with the email and thought it receives."
        )
    if len(sent) > 1:
        raise Incorrect(
            f"time_form submitted the form {len(sent)} times for one call (the inbox got {len(sent)} emails): "
            "submit it once, and time that one request. A slow request must not run twice."
        )
    if thought not in sent[0].text:
        raise Incorrect(
            f"time_form was given the thought {thought!r}, but the email Work-It sent is about another one: "
            "submit the form with app.post_thought(email, thought), the email and the thought it receives."
        )
    _check_status(good, 200, "a good address")
    slow = _check_seconds(good, outer, "a good address")
    _check_background(good, slow, "a good address")
    # If 'ada@' got in ahead of the good address (a busy machine), it waits in line behind a request of the check's.
    blocker = f"line-{token}@example.com"
    for _ in range(2):
        if behind_outer > TOO_SLOW + 0.1 or delay < TOO_SLOW + LINE_AFTER + 0.3:
            break
        _, (behind, behind_outer) = _in_line(time_form, lambda: app.post_thought(blocker, "Ahead of you in line"))
    _check_status(behind, 400, IN_LINE)
    waited = _check_seconds(behind, behind_outer, IN_LINE)
    _check_background(behind, waited, IN_LINE)
    refused, outer, posts = _posted(time_form, MALFORMED, REFUSED_THOUGHT)
    if posts != 1:
        raise Incorrect(
            f"time_form submitted the form {posts} times for one call with the malformed address {MALFORMED!r} "
            "(Work-It's log shows each request): submit it once, whatever Work-It answers, and time that request."
        )
    _check_status(refused, 400, f"the malformed address {MALFORMED!r}")
    fast = _check_seconds(refused, outer, f"the malformed address {MALFORMED!r}")
    _check_background(refused, fast, f"the malformed address {MALFORMED!r}")
    return (
        f"A good address: HTTP 200 after ⏱ {slow:.2f} s, background {good['background']}. The malformed "
        f"{MALFORMED!r}, in line behind it: HTTP 400 after ⏱ {waited:.2f} s, background {behind['background']}; "
        f"alone: HTTP 400 after ⏱ {fast:.3f} s, background {refused['background']}."
    )


ex_time_form = Exercise(
    "Exercise 1",
    _check_time_form,
    title="Time the form yourself",
    hints=[
        "Read time.perf_counter() into start, call reply = app.post_thought(email, thought), then "
        "seconds = time.perf_counter() - start.",
        "reply['status'] is the HTTP status; 'background' is the comparison seconds > TOO_SLOW, a bool.",
        "return {'status': reply['status'], 'seconds': seconds, 'background': seconds > TOO_SLOW}",
    ],
    solution="""\
def time_form(email, thought):
    start = time.perf_counter()
    reply = app.post_thought(email, thought)
    seconds = time.perf_counter() - start
    return {"status": reply["status"], "seconds": seconds, "background": seconds > TOO_SLOW}""",
    reference=reference_time_form,
)


# --- Exercise 2: predict three users in line --------------------------------------------------------------------

q_line = Choice(
    "Exercise 2",
    "Three users press Submit on Work-It's form at the same moment. Work-It serves one request at a time, and each "
    "request sends its email inline, 5 s. How long does the last of the three wait for its page?",
    {
        "a": "About 5 s, like the other two: the three requests are sent together",
        "b": "About 10 s: it waits for one other user's email, then gets its own page",
        "c": "About 15 s: it waits for the two emails before its own, then for its own",
    },
    "c",
    title="Three users in line",
    explanations={
        "a": "They are sent together, but Work-It takes the next request only once it has answered the one before: "
        "while it sleeps in one user's mailer, the others wait in line.",
        "b": "Count the emails it waits for: the first user's, the second user's, and then its own, 5 s each, since "
        "its page answers only once its own email is sent.",
        "c": "Each request holds the server for its 5 s send, one after the other: 5, 10, 15. Run the next cell and "
        "see.",
    },
    hints=["The last user's page answers once its own email is sent, and the server sends one at a time."],
)


# --- Exercise 3: background or request? -------------------------------------------------------------------------

BACKGROUND, REQUEST = "background", "request"

# task -> (the right column, a pointer shown when it is in the wrong one: a question, never the answer)
TASKS: dict[str, tuple[str, str]] = {
    "email a receipt after checkout": (
        BACKGROUND,
        "Does the page have to wait until the receipt is in the mailbox? Think of Work-It.",
    ),
    "make three thumbnails of an uploaded photo": (
        BACKGROUND,
        "Resizing images is slow data processing. Does the upload page need the thumbnails to say 'uploaded'?",
    ),
    "tell the warehouse's API about a new order": (
        BACKGROUND,
        "A third-party API can be slow or down. Does the customer need its answer on this page?",
    ),
    "delete sessions older than 30 days, every night": (
        BACKGROUND,
        "Nobody clicked anything: this is maintenance. Which request would it even run in?",
    ),
    "check the password when someone logs in": (
        REQUEST,
        "The very next page depends on the answer: logged in or not. Can that wait for a worker?",
    ),
    "show the search results someone asked for": (
        REQUEST,
        "The results ARE the page. What would the user see if a worker made them later?",
    ),
    "refuse a malformed email address in the form": (
        REQUEST,
        "Remember the 400 above: it took milliseconds, and the user must fix the field now.",
    ),
    "charge the card and say whether it was declined": (
        REQUEST,
        "It calls a third party, yes, but can the page say 'paid' before it knows the card went "
        "through? The user is waiting for exactly this answer.",
    ),
}

REFERENCE_SORT = {task: column for task, (column, _pointer) in TASKS.items()}


def _check_sort(answers: Any) -> str:
    if not isinstance(answers, dict):
        raise Incorrect(f"answers should be a dict (task -> 'background' or 'request'), not {describe(answers)}.")
    if answers and all(is_placeholder(v) for v in answers.values()):
        raise NotAttempted()
    unknown = [task for task in answers if task not in TASKS]
    if unknown:
        raise Incorrect(
            f"{unknown[0]!r} is not one of the tasks: keep the task names as they are, and only fill in the values."
        )
    missing = [task for task in TASKS if task not in answers]
    if missing:
        raise Incorrect(
            f"The task {missing[0]!r} is missing from your dict: write 'background' or 'request' for each task."
        )
    blanks = [task for task, value in answers.items() if is_placeholder(value)]
    if blanks:
        raise NotAttempted(
            f"{len(blanks)} of {len(TASKS)} tasks still have ____: fill in every one (the first is {blanks[0]!r})."
        )
    columns = {}
    for task, value in answers.items():
        word = value.strip().lower() if isinstance(value, str) else value
        if word not in (BACKGROUND, REQUEST):
            raise Incorrect(f"{task!r} is {describe(value)}; write 'background' or 'request'.")
        columns[task] = word
    wrong = [task for task in TASKS if columns[task] != TASKS[task][0]]
    if wrong:
        first = wrong[0]
        verb = "is" if len(wrong) == 1 else "are"
        raise Incorrect(
            f"{len(wrong)} of {len(TASKS)} {verb} in the wrong column (a task stays in the request when the page "
            f"needs its result). Look again at {first!r}: {TASKS[first][1]}"
        )
    return (
        "All 8 sorted. Background work is slow, and nobody is waiting on this page for its result; "
        "request work decides what this page says."
    )


ex_sort = Exercise(
    "Exercise 3",
    _check_sort,
    title="Background or request?",
    hints=[
        "Ask of each task: is the user looking at a page that needs its result to be written?",
        "The four kinds of background work from the top of the notebook: data processing, third-party APIs, "
        "maintenance, email. But a third-party call whose answer the page needs stays in the request.",
    ],
    solution="answers = {\n" + "".join(f"    {task!r}: {column!r},\n" for task, column in REFERENCE_SORT.items()) + "}",
    reference=REFERENCE_SORT,
)
