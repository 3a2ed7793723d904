"""support.workit.validation: every bad form input is refused with a message that says what is wrong."""

from __future__ import annotations

import pytest

from support.workit.validation import MAX_THOUGHT, ValidationError, validate

GOOD_EMAIL = "ada@example.com"


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ada", "must have an @-sign"),
        ("ada@", "something after the @-sign"),
        ("@example.com", "something before the @-sign"),
        ("ada@@example.com", "invalid characters"),
        ("ada lovelace@example.com", "invalid characters"),
        ("ada@example", "should have a period"),
        ("ada@example..com", "two periods in a row"),
        ("ada@example.com\nBcc: eve@example.com", "invalid characters"),
    ],
)
def test_malformed_email_is_refused(email: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate(email, "a thought")
    assert info.value.field == "email"
    assert "is not a valid email address" in str(info.value)
    assert reason in str(info.value)


@pytest.mark.parametrize("email", ["", "   ", None])
def test_empty_or_missing_email_is_refused(email: str | None) -> None:
    with pytest.raises(ValidationError, match="Please enter your email address: the field is empty") as info:
        validate(email, "a thought")
    assert info.value.field == "email"


@pytest.mark.parametrize("thought", ["", "   ", " \n\t \r\n ", None])
def test_empty_whitespace_or_missing_thought_is_refused(thought: str | None) -> None:
    with pytest.raises(ValidationError, match="Please write a thought: the field is empty") as info:
        validate(GOOD_EMAIL, thought)
    assert info.value.field == "thought"


@pytest.mark.parametrize(("length", "shown"), [(MAX_THOUGHT + 1, "1,001"), (10_000, "10,000")])
def test_too_long_thought_is_refused_with_its_length(length: int, shown: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate(GOOD_EMAIL, "x" * length)
    assert info.value.field == "thought"
    assert str(info.value) == f"Your thought is {shown} characters long; the limit is 1,000. Please shorten it."


def test_thought_of_exactly_the_limit_passes() -> None:
    assert MAX_THOUGHT == 1000
    assert validate(GOOD_EMAIL, "x" * 1000) == (GOOD_EMAIL, "x" * 1000)


def test_values_are_cleaned() -> None:
    email, thought = validate("  Ada@Example.COM ", "\n  I need coffee\r\nnow  \n")
    assert email == "Ada@example.com"  # the domain is case-insensitive, the local part is kept
    assert thought == "I need coffee\nnow"
    assert validate(GOOD_EMAIL, "  " + "y" * 1000 + "  ")[1] == "y" * 1000  # surrounding blanks do not count


def test_both_missing_reports_the_email_first_and_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="email address"):
        validate(None, None)
