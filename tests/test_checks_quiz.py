"""The closing quiz of 07_check_for_understanding: every right answer passes, every wrong option says which
misconception it reflects, a blank is not attempted, and code and widget answers agree."""

from __future__ import annotations

import pytest

from support.checks import quiz, quiz_after, quiz_code
from support.checks.quiz import QUESTIONS, q1, summary
from support.exercises import ____

NOT_ATTEMPTED = "Not attempted: replace ____ with your answer, then run the check again."
WRONG = [(q, option) for q in QUESTIONS for option in q.options if option not in q.answer]


def ids(value):
    return value.name.replace(" ", "") if hasattr(value, "name") else str(value)


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_reference_answer_is_correct(question):
    answer = " ".join(sorted(question.answer))
    result = question.check(answer)
    assert result.correct, result
    for option in question.answer:  # the explanation of the right answer is what the learner reads
        assert question.explanations[option] in result.message


@pytest.mark.parametrize("question,option", WRONG, ids=lambda v: ids(v))
def test_each_wrong_option_gets_its_own_explanation(question, option):
    result = question.check(option)
    assert result.kind == "incorrect"
    assert question.explanations[option] in result.message


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_blank_is_not_attempted(question):
    assert str(question.check(____)) == NOT_ATTEMPTED


def test_every_option_is_explained_and_distinct():
    for question in QUESTIONS:
        assert set(question.explanations) == set(question.options), question.name
        assert len(set(question.explanations.values())) == len(question.options), question.name
        assert question.hints, question.name


def test_typical_wrong_answers_name_the_misconception():
    assert '"Redis is just a cache"' in quiz.q2.check("a").message
    assert "never interrupts a running job" in quiz.q6.check("a").message
    assert "at-least-once" in quiz.q7.check("a").message
    assert "never stores a job's code" in quiz.q4.check("c").message
    assert "That needs a scheduler" in quiz.q10.check("a").message
    assert "result_ttl, 500 seconds" in quiz_after.q12.check("a").message
    assert "a failed job has not" in quiz_after.q13.check("a").message
    assert "no rollback reaches it" in quiz_after.q14.check("a").message
    assert "does not requeue anything" in quiz_after.q15.check("a").message
    assert "never the app's memory" in quiz_after.q16.check("a").message


def test_the_quiz_counts_the_questions_on_08_09_and_10() -> None:
    assert [q.name for q in QUESTIONS] == [f"Question {n}" for n in range(1, 17)]
    assert QUESTIONS[11:] == quiz_after.QUESTIONS


def test_many_choice_explains_wrong_picks_and_counts_missing_ones_without_naming_them():
    result = q1.check("a b")
    assert result.kind == "incorrect"
    assert result.message.startswith("b) does not belong: The user cannot go on")
    assert result.message.endswith("Also, 2 more belong in the background: look again at the ones you left out.")
    assert q1.explanations["c"] not in result.message and q1.explanations["e"] not in result.message
    only_missing = q1.check("a c")
    assert only_missing.kind == "incorrect"
    assert only_missing.message == (
        "Right so far, but 1 more belongs in the background: look again at the ones you left out."
    )


def test_answers_are_read_leniently():
    assert q1.check("E, C, A").correct
    assert q1.check(["a", "c", "e"]).correct
    assert quiz.q5.check("A").correct
    assert quiz.q5.check("z").kind == "incorrect"


def test_widget_shows_the_question_and_checks_like_code():
    box = quiz.q6.widget()
    assert repr(box).startswith("Question 6: A worker listens to urgent, mailers, default")
    question, picker, feedback = box.children
    picker.value = "c"
    assert "Correct" in feedback.value
    picker.value = "a"
    assert "Incorrect" in feedback.value and "never interrupts" in feedback.value


def test_summary_counts_the_last_answers():
    for question in QUESTIONS:
        question.check(____)
    assert summary(QUESTIONS) == f"Correct: 0 of {len(QUESTIONS)}; not answered yet: {len(QUESTIONS)}"
    quiz.q2.check("b")
    quiz.q3.check("a")
    assert summary(QUESTIONS) == (
        f"Correct: 1 of {len(QUESTIONS)}; to look at again: Question 3; not answered yet: {len(QUESTIONS) - 2}"
    )
    for question in QUESTIONS:
        question.check(" ".join(sorted(question.answer)))
    assert summary(QUESTIONS) == f"Correct: {len(QUESTIONS)} of {len(QUESTIONS)}"


def test_the_summary_counts_the_code_questions_too() -> None:
    assert [q.name for q in quiz.EVERY_QUESTION] == [f"Question {n}" for n in range(1, 21)]
    assert quiz.EVERY_QUESTION[16:] == quiz_code.QUESTIONS


# --- Letters are read one way in every question: case, spaces, commas and brackets do not matter -----------------

ONE_ANSWER = [q for q in QUESTIONS if len(q.answer) == 1]


@pytest.mark.parametrize("question", ONE_ANSWER, ids=ids)
def test_one_letter_answers_read_leniently(question):
    (letter,) = question.answer
    for answer in (letter.upper(), f"  {letter}\n", f"{letter})", f"({letter})", [letter]):
        assert question.check(answer).correct, (question.name, answer)


@pytest.mark.parametrize("question", ONE_ANSWER, ids=ids)
def test_unknown_or_several_letters_are_incorrect_and_say_so(question):
    (letter,) = question.answer
    wrong = next(o for o in question.options if o != letter)
    unknown = question.check("z")
    assert unknown.kind == "incorrect"
    assert unknown.message == f"You chose 'z'; pick from {', '.join(question.options)}."
    several = question.check(f"{letter} {wrong}")
    assert several.kind == "incorrect" and "this question has one right answer. Pick one letter." in several.message


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_an_empty_answer_is_not_attempted(question):
    for answer in ("", "  ", ","):
        result = question.check(answer)
        assert result.kind == "not_attempted" and "your answer is empty" in result.message


def test_many_choice_reads_letters_the_same_way():
    for answer in ("A C E", "a,c,e", "(a) (c) (e)", ["A", "c", "e"], "a c e a"):
        assert q1.check(answer).correct, answer
    assert q1.check("a c z").message == "You chose 'a c z'; pick from a, b, c, d, e."
