"""Unit tests of support.exercises: placeholder, results and their text forms, hints, solutions, fallbacks."""

from __future__ import annotations

import sys

import pytest
from exercise_table import define

from support.exercises import (
    Choice,
    Exercise,
    Incorrect,
    NotAttempted,
    Placeholder,
    Result,
    ____,
    call,
    correct,
    describe,
    incorrect,
    is_placeholder,
    load_module_from,
    note,
)
from support.services import mailcatcher, redis_server

NOT_ATTEMPTED = "Not attempted: replace ____ with your answer, then run the check again."


def check_double(fn):
    """A check in the course's style: call the learner's function, say what it produced."""
    got = call(fn, 21)
    if got != 42:
        raise Incorrect(f"double(21) returned {describe(got)}. Multiply the argument by 2.")
    return "double(21) is 42."


@pytest.fixture
def ex() -> Exercise:
    return Exercise(
        "Exercise 1",
        check_double,
        title="Double it",
        hints=["Use the * operator.", "Return the value; do not print it."],
        solution="def double(n):\n    return n * 2",
        reference=lambda n: n * 2,
    )


# --------------------------------------------------------------------------------------------- placeholder


def test_placeholder_is_harmless_in_a_cell():
    answer = ____

    def double(n):
        return ____

    assert isinstance(answer, Placeholder) and repr(answer) == "____"
    assert ____() is ____ and is_placeholder(double) and is_placeholder(double(3))
    assert not is_placeholder(lambda n: n * 2) and not is_placeholder(None) and not is_placeholder(0)


def test_placeholder_means_not_attempted(ex):
    def double(n):
        return ____

    for answer in (____, double):
        result = ex.check(answer)
        assert result.kind == "not_attempted" and not result
        assert str(result) == NOT_ATTEMPTED
        assert result._repr_mimebundle_()["text/plain"] == NOT_ATTEMPTED


# ------------------------------------------------------------------------------------------------- results


def test_right_answer_is_correct(ex):
    result = ex.check(lambda n: n * 2)
    assert result and result.correct
    assert str(result) == "Correct: double(21) is 42."
    html = result._repr_mimebundle_()["text/html"]
    assert "Correct (Exercise 1: Double it):" in html and "var(--jp-success-color1" in html


def test_wrong_answer_says_what_the_learner_produced(ex):
    result = ex.check(lambda n: n + 2)
    assert result.kind == "incorrect"
    assert str(result) == "Incorrect: double(21) returned 23. Multiply the argument by 2."
    assert "42" not in str(result).split("returned")[1].split(".")[0]  # it shows 23, not the answer


def test_a_raising_learner_function_is_reported_not_raised(ex):
    result = ex.check(define("def double(n):\n    return n / 0\n", "double"))
    assert str(result) == (
        "Incorrect: Your function raised ZeroDivisionError: division by zero (when called as double(21)); "
        "line 2 of your code: `return n / 0`"
    )


def test_exceptions_escaping_a_check_never_reach_the_cell():
    learner = define("def learner(n):\n    return {}[n]\n", "learner")

    def naive_check(fn):  # no call(): the learner's KeyError escapes the check function
        assert fn(1) == 2

    def broken_check(fn):
        return [][1]

    assert str(Exercise("E", naive_check).check(learner)) == (
        "Incorrect: Your code raised KeyError: 1 (line 2 of your code: `return {}[n]`)"
    )
    message = Exercise("E", broken_check).check(learner).message
    assert message.startswith(
        "The check itself failed: its own code raised IndexError: list index out of range (test_exercises.py, line "
    )
    assert (
        "in broken_check). That is not your answer's fault, and your answer was not judged: run the check " in message
    )


# ------------------------------------------------------------------------------------------------- blame
# Whose fault an exception is (issue 28): the learner's code (with its line), the check's own code or data, or a
# service that is not running, whichever code raised it.


def test_a_library_raising_for_the_learner_s_call_is_the_learner_s_fault():
    learner = define("import json\n\ndef parse(text):\n    return json.loads(text)\n", "parse")
    message = Exercise("E", lambda fn: call(fn, "{")).check(learner).message
    assert message.startswith("Your function raised JSONDecodeError: Expecting property name")
    assert message.endswith("; line 4 of your code: `return json.loads(text)`")


def test_the_check_s_own_data_failing_is_not_blamed_on_the_learner():
    def check_greeting(fn):
        people = [{"name": "Ada"}, {"nmae": "Grace"}]  # the check's made-up data, with a typo

        def name_of(i):  # handed to the learner's function, which calls it as the exercise says
            return people[i]["name"]

        return [call(fn, name_of, i) for i in range(2)]

    learner = define("def greet(name_of, i):\n    return 'Hello ' + name_of(i)\n", "greet")
    message = Exercise("E", check_greeting).check(learner).message
    assert message.startswith("The check itself failed: its own code raised KeyError: 'name' (test_exercises.py")
    assert "in name_of). That is not your answer's fault" in message and "Your" not in message


def test_a_failure_the_check_makes_on_purpose_is_what_the_learner_s_code_let_out():
    def check(fn):
        def deliver(to):  # the check's stand-in for a mail server that is down
            raise ConnectionError("the mail server did not answer (the check made it fail)")

        call(fn, deliver, "a@example.com")

    learner = define("def send(deliver, to):\n    return deliver(to)\n", "send")
    assert (
        Exercise("E", check)
        .check(learner)
        .message.startswith(
            "Your function raised ConnectionError: the mail server did not answer (the check made it fail)"
        )
    )


def test_a_connection_error_the_learner_raises_while_the_services_run_is_theirs(services):
    learner = define("def send(to):\n    raise ConnectionError('my mail server is down')\n", "send")
    assert (
        Exercise("E", lambda fn: call(fn, "a@example.com"))
        .check(learner)
        .message.startswith(
            "Your function raised ConnectionError: my mail server is down (when called as send('a@example.com'))"
        )
    )


def test_a_stopped_redis_is_named_whichever_code_raised(redis_up):
    r = redis_server.connect(socket_connect_timeout=1)  # a plain client: it does not start Redis again
    push = define("def push(r, key):\n    r.lpush(key, 'job')\n", "push")

    def through_the_learner(fn):
        call(fn, r, "check:blame")

    def the_check_itself(fn):
        r.llen("check:blame")

    assert Exercise("E", through_the_learner).check(push).correct
    redis_server.stop()
    for check in (through_the_learner, the_check_itself):
        message = Exercise("E", check).check(push).message
        assert message.startswith("The check could not run: the course's Redis is not running (ConnectionError: ")
        assert "That is not your answer's fault: start it with course.up('redis')" in message


def test_a_real_check_says_when_its_redis_server_is_gone(redis_up, monkeypatch):
    from support.checks.redis_basics import ex_send

    monkeypatch.setenv("REDIS_URL", redis_server.url())  # the learner's own server, which the course never starts
    redis_server.stop()
    result = ex_send.check(define("def send(r, key, items):\n    r.lpush(key, *items)\n", "send"))
    assert result.kind != "correct"
    assert result.message.startswith("The check could not run: REDIS_URL is set to redis://")
    assert "but that server does not answer" in result.message and "Your" not in result.message


def test_a_stopped_mail_catcher_is_named(services):
    port = mailcatcher.status().port
    send = define(
        "import smtplib\n\ndef send(port):\n    with smtplib.SMTP('127.0.0.1', port, timeout=2) as smtp:\n"
        "        smtp.sendmail('a@example.com', ['b@example.com'], 'Subject: hi\\n\\nhi')\n",
        "send",
    )
    assert Exercise("E", lambda fn: call(fn, port)).check(send).correct
    mailcatcher.stop()
    message = Exercise("E", lambda fn: call(fn, port)).check(send).message
    assert message.startswith("The check could not run: the mail catcher is not running (ConnectionRefusedError")
    assert "start it with course.up('catcher')" in message


def test_check_function_return_styles():
    assert str(Exercise("E", lambda v: None).check(1)) == "Correct: Well done."
    assert str(Exercise("E", lambda v: correct("Yes.")).check(1)) == "Correct: Yes."
    assert str(Exercise("E", lambda v: incorrect(f"You gave {v}.")).check(1)) == "Incorrect: You gave 1."

    def needs_effects():
        raise NotAttempted("no email in the inbox yet: send one with the form above.")

    assert str(Exercise("E", needs_effects).check()) == (
        "Not attempted: no email in the inbox yet: send one with the form above."
    )


def test_expected_value_exercise():
    ex = Exercise("Exercise 2", expected=3)
    assert str(ex.check(3)) == "Correct: Well done."
    assert str(ex.check(4)) == "Incorrect: You gave 4, which is not the answer."
    assert str(ex.check("3")) == "Incorrect: You gave '3' (type str); the answer has type int."
    assert str(ex.check(____)) == NOT_ATTEMPTED


def test_describe_is_deterministic():
    class Thing:
        pass

    assert describe(Thing()) == "a Thing object"
    assert describe(check_double) == "the function check_double"
    assert describe(sys) == "the module sys"
    assert "..." in describe("x" * 200) and len(describe("x" * 200)) < 80


def test_result_html_is_escaped():
    html = Result("incorrect", "You gave '<b>'.", "E")._repr_mimebundle_()["text/html"]
    assert "&lt;b&gt;" in html and "<b>" not in html


# ---------------------------------------------------------------------------------------- hints, solution


def test_hints_progress_then_run_out(ex):
    assert str(ex.hint()) == "Hint 1/2: Use the * operator."
    assert str(ex.hint()) == "Hint 2/2: Return the value; do not print it."
    assert str(ex.hint()) == "No more hints for Exercise 1. Call .solution() to see the reference solution."
    assert str(ex.hint(1)) == "Hint 1/2: Use the * operator."
    assert str(ex.hint(3)) == "Exercise 1 has 2 hints; ask for one between 1 and 2."
    assert str(Exercise("E", expected=1).hint()) == "E has no hints."
    bundle = ex.hint(2)._repr_mimebundle_()
    assert bundle["text/plain"] == "Hint 2/2: Return the value; do not print it." and "<div" in bundle["text/html"]


def test_solution_is_shown_as_code(ex):
    shown = ex.solution()
    assert str(shown) == "Solution for Exercise 1: Double it:\ndef double(n):\n    return n * 2"
    assert "<pre><code>def double(n):" in shown._repr_mimebundle_()["text/html"]


# -------------------------------------------------------------------------------------------------- fallback


def test_use_falls_back_to_the_reference_with_a_note(ex, capsys):
    double = ex.use(____)
    assert double(5) == 10
    assert capsys.readouterr().out == "Using the reference solution for Exercise 1 so you can go on.\n"

    wrong = lambda n: n + 2  # noqa: E731
    assert ex.use(wrong) is ex.reference
    assert capsys.readouterr().out == "Using the reference solution for Exercise 1 so you can go on.\n"


def test_use_keeps_a_correct_answer_and_reuses_the_last_check(capsys):
    calls = []
    ex = Exercise("E", lambda v: calls.append(v), reference="reference")
    mine = object()
    ex.check(mine)
    assert ex.use(mine) is mine and calls == [mine]  # not checked a second time
    assert ex.use("other") == "other" and len(calls) == 2
    assert capsys.readouterr().out == ""


def test_use_makes_the_reference_with_the_fallback_and_its_arguments(capsys):
    made = []
    ex = Exercise(
        "E",
        lambda v: None if v == 1 else "x" + 1,
        fallback=lambda *args: made.append(args) or "made",
        fallback_note="Using the reference solution for E: it was made for you.",
    )
    assert ex.use(1, "job") == 1 and made == []  # correct: the fallback is not called
    assert ex.use(2, "job") == "made" and made == [("job",)]
    assert capsys.readouterr().out == "Using the reference solution for E: it was made for you.\n"
    with pytest.raises(TypeError, match="no fallback"):
        Exercise("F", lambda v: None, reference=0).use(____, "extra")


def test_accept_decides_what_use_goes_on_with():
    class Loaded(Exercise):
        def accept(self, value):
            return f"loaded {super().accept(value)}"

    ex = Loaded("E", lambda v: None if v == "ok" else "x" + 1, reference="reference")
    assert ex.use("ok") == "loaded ok"
    assert ex.use("bad", quiet=True) == "reference"


def test_note_shows_a_note_and_returns_it(capsys):
    shown = note("Something to know.")
    assert str(shown) == "Something to know." and capsys.readouterr().out == "Something to know.\n"
    assert "Note:" in shown._repr_mimebundle_()["text/html"]


# ---------------------------------------------------------------------------------------------------- choice


@pytest.fixture
def quiz() -> Choice:
    return Choice(
        "Question 1",
        "Which job belongs in the background?",
        {"a": "Rendering the page the user waits for", "b": "Sending the welcome email"},
        answer="b",
        explanations={"a": "The user is waiting for that page.", "b": "Nobody waits for an email."},
    )


def test_choice_from_code(quiz):
    assert str(quiz.check("b")) == "Correct: Nobody waits for an email."
    assert str(quiz.check("B")) == "Correct: Nobody waits for an email."
    assert str(quiz.check("a")) == (
        "Incorrect: You chose a) Rendering the page the user waits for. The user is waiting for that page."
    )
    assert str(quiz.check("z")) == "Incorrect: You chose 'z'; pick from a, b."
    assert str(quiz.check(____)) == NOT_ATTEMPTED
    assert str(quiz.solution()) == "Solution for Question 1:\nb) Sending the welcome email"


def test_choice_with_several_right_answers():
    q = Choice("Q", "Which qualify?", ["emails", "page render", "image resize"], answer={"a", "c"})
    assert str(q.check("a, c")) == "Correct: Well done."
    assert str(q.check(["c", "a"])) == "Correct: Well done."
    assert str(q.check("a")) == "Incorrect: You chose a) emails. At least one option is wrong or missing."
    assert str(q.check("b")) == "Incorrect: You chose b) page render. None of those is right."


def test_choice_widget_runs_the_same_check(quiz):
    box = quiz.widget()
    text = (
        "Question 1: Which job belongs in the background?\n"
        "  a) Rendering the page the user waits for\n  b) Sending the welcome email"
    )
    assert repr(box) == text and box._repr_mimebundle_()["text/plain"] == text
    _, picker, feedback = box.children
    assert feedback.value == ""
    picker.value = "a"
    assert "Incorrect" in feedback.value and "The user is waiting" in feedback.value
    picker.value = "b"
    assert "Correct" in feedback.value and str(quiz.last_result) == "Correct: Nobody waits for an email."


# ------------------------------------------------------------------------------------------------- modules


def test_load_module_from_picks_up_an_edited_file(tmp_path):
    path = tmp_path / "thought_job.py"
    path.write_text("def deliver(thought):\n    return 'one'\n")
    assert load_module_from(path).deliver("x") == "one"
    path.write_text("def deliver(thought):\n    return 'two'\n")  # same size, same second: no stale .pyc
    module = load_module_from(path)
    assert module.deliver("x") == "two" and module.deliver.__module__ == "thought_job"
    assert sys.modules["thought_job"] is module
    del sys.modules["thought_job"]


def test_module_exercise_from_placeholder_to_correct(tmp_path):
    path = tmp_path / "greet_job.py"

    def check_module(filename):
        module = load_module_from(tmp_path / filename)
        if is_placeholder(module):
            raise NotAttempted("greet_job.py still has a ____ in it.")
        got = call(module.greet, "Ada")
        if got != "Hello, Ada":
            raise Incorrect(f"greet('Ada') returned {describe(got)}.")

    ex = Exercise("Exercise 3", check_module)
    assert str(ex.check("greet_job.py")) == (
        "Incorrect: There is no file greet_job.py yet: run the cell that writes it first."
    )
    path.write_text("from support.exercises import ____\n\ndef greet(name):\n    ____\n")
    assert str(ex.check("greet_job.py")) == "Not attempted: greet_job.py still has a ____ in it."
    path.write_text("from support.exercises import ____\n\ndef greet(name):\n    return 'Hi ' + name\n")
    assert str(ex.check("greet_job.py")) == "Incorrect: greet('Ada') returned 'Hi Ada'."
    path.write_text("def greet(name):\n    return 'Hello, ' + nme\n")
    assert str(ex.check("greet_job.py")) == (
        "Incorrect: Your function raised NameError: name 'nme' is not defined (when called as greet('Ada')); "
        "line 2 of greet_job.py: `return 'Hello, ' + nme`"
    )
    path.write_text("def greet(name)\n    return 1\n")
    assert str(ex.check("greet_job.py")) == "Incorrect: greet_job.py has a syntax error on line 1: expected ':'"
    path.write_text("import no_such_module_here\n")
    assert str(ex.check("greet_job.py")) == (
        "Incorrect: Importing greet_job.py raised ModuleNotFoundError: No module named 'no_such_module_here'"
    )
    path.write_text("def greet(name):\n    ____\n")  # a blank, and no import of ____
    assert str(ex.check("greet_job.py")) == "Not attempted: greet_job.py still has a ____ in it."
    with pytest.raises(NotAttempted):  # call() turns the NameError for ____ into "not attempted"
        call(load_module_from(path).greet, "Ada")
    path.write_text("RETRIES = ____\n")
    assert str(ex.check("greet_job.py")) == (
        "Not attempted: greet_job.py still has a ____ in it: fill it in, then run its cell again."
    )
    path.write_text("def greet(name):\n    return 'Hello, ' + name\n")
    assert ex.check("greet_job.py")
    sys.modules.pop("greet_job", None)


def test_require_function_wants_a_callable_that_takes_the_exercise_s_arguments():
    from support.exercises import require_function

    with pytest.raises(
        Incorrect, match=r"^send_once should be a function of \(email, thought, key\); you gave 'send'\.$"
    ):
        require_function("send", "send_once", ("email", "thought", "key"))
    for wrong in (lambda email, thought: None, lambda email, thought, key, extra: None, lambda: None):
        with pytest.raises(Incorrect, match=r"^send_once should take three arguments: \(email, thought, key\)\.$"):
            require_function(wrong, "send_once", ("email", "thought", "key"))
    for right in (lambda a, b, c: None, lambda a, b, c, d=1: None, lambda *args: None, min):  # min: no signature
        assert require_function(right, "send_once", ("email", "thought", "key")) is None


def test_no_check_hand_writes_the_function_test() -> None:
    from pathlib import Path

    checks = Path(__file__).resolve().parent.parent / "support" / "checks"
    found = [
        f"{path.name}:{n}"
        for path in sorted(checks.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "if not callable(" in line
    ]
    assert found == []  # they call require_function, which says what the function should take


def test_use_after_check_goes_on_only_with_a_value_whose_last_check_passed():
    from support.exercises import Exercise

    def check(total, parts):
        if total != sum(parts):
            raise Incorrect("not the sum")

    ex = Exercise("Exercise 9", check, fallback=lambda parts: ("reference", sum(parts)), use_after_check=True)
    assert ex.use(6, [1, 2, 3], quiet=True) == ("reference", 6)  # never checked: use does not check it either
    assert ex.check(7, [1, 2, 3]).kind == "incorrect" and not ex.passed_last_check(7)
    assert ex.use(7, [1, 2, 3], quiet=True) == ("reference", 6)
    assert ex.check(6, [1, 2, 3]).correct and ex.passed_last_check(6)
    assert ex.use(6, [1, 2, 3], quiet=True) == 6
    assert ex.check(6, [5]).kind == "incorrect" and ex.use(6, [5], quiet=True) == ("reference", 5)  # the last counts


def test_call_with_deadline_returns_the_value_or_stops_the_call():
    import threading
    import time

    from support.exercises import call_with_deadline

    value, seconds = call_with_deadline(lambda: 42, 5, stop=lambda: None)
    assert value == 42 and seconds < 5
    release = threading.Event()
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        call_with_deadline(lambda: release.wait(10), 0.2, stop=release.set)
    assert time.perf_counter() - started < 3
    with pytest.raises(ZeroDivisionError):  # what the call raises is raised to the caller
        call_with_deadline(lambda: 1 / 0, 5, stop=lambda: None)
