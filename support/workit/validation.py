"""Checking what a Work-It user typed: an email address and a thought.

``validate`` returns the cleaned values or raises ``ValidationError`` with a sentence a person can act on. The app
calls it before it sends or queues anything, so a bad form never costs a slow call or a job.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_THOUGHT = 1000


class ValidationError(ValueError):
    """What the user typed cannot be used; ``str(error)`` says why, ``error.field`` says which field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def validate_address(email: str | None) -> str:
    """The normalized address (ASCII, domain lower-cased), or ValidationError."""
    email = (email or "").strip()
    if not email:
        raise ValidationError("Please enter your email address: the field is empty.", "email")
    try:
        result = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        shown = email if len(email) <= 60 else email[:57] + "..."
        raise ValidationError(f"{shown!r} is not a valid email address. {exc}", "email") from None
    return result.ascii_email or result.normalized


def validate_thought(thought: str | None) -> str:
    """The thought without surrounding whitespace (newlines as \\n), or ValidationError."""
    thought = (thought or "").replace("\r\n", "\n").strip()
    if not thought:
        raise ValidationError("Please write a thought: the field is empty.", "thought")
    if len(thought) > MAX_THOUGHT:
        raise ValidationError(
            f"Your thought is {len(thought):,} characters long; the limit is {MAX_THOUGHT:,}. Please shorten it.",
            "thought",
        )
    return thought


def validate(email: str | None, thought: str | None) -> tuple[str, str]:
    """(normalized email, stripped thought); raises ValidationError for the first problem found. None is empty."""
    return validate_address(email), validate_thought(thought)
