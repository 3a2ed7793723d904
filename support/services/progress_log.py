"""The learner's progress file: one JSON line per exercise event, kept on this machine only.

    <state folder>/progress.jsonl   {"at": "2026-12-01T21:50:03+00:00", "notebook": "03_jobs",
                                     "exercise": "Exercise 1", "event": "check", "outcome": "incorrect"}
    <state folder>/learner_id       a random id made once, for exports (``python -m support progress --export``)

``$COURSE_PROGRESS_FILE`` names another file (the unit tests use one of their own). No answer is written unless
the learner opts in: ``$COURSE_RECORD_ANSWERS=1`` or ``record_answers(True)``; then a check's line gets "answer".

Writing never raises: a folder that cannot be written, a full disk or a file that is a folder lose the line,
nothing else. Reading skips lines that are not JSON objects (a corrupt or half-written file), and reads only a
regular file.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import state

MAX_BYTES = 64 * 2**20  # read no more than this: a whole course is a few hundred lines
_record_answers: bool | None = None  # None: as $COURSE_RECORD_ANSWERS says


def path() -> Path:
    """Where progress is kept (the file need not exist)."""
    override = os.environ.get("COURSE_PROGRESS_FILE")
    return Path(override) if override else state.home() / "progress.jsonl"


def record_answers(on: bool | None = True) -> None:
    """Opt in (True) or out (False) of recording answer text; None: follow ``$COURSE_RECORD_ANSWERS`` again."""
    global _record_answers
    _record_answers = on


def recording_answers() -> bool:
    if _record_answers is not None:
        return _record_answers
    return os.environ.get("COURSE_RECORD_ANSWERS", "").strip().lower() in ("1", "true", "yes", "on")


def append(notebook: str, exercise: str, event: str, outcome: str, answer: str | None = None) -> bool:
    """Add one line; False (and nothing else) when it cannot be written."""
    line: dict[str, Any] = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "notebook": notebook,
        "exercise": exercise,
        "event": event,
        "outcome": outcome,
    }
    if answer is not None and recording_answers():
        line["answer"] = answer
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        with os.fdopen(os.open(path(), os.O_CREAT | os.O_RDWR | os.O_APPEND, state.PRIVATE_FILE), "a+b") as file:
            if file.seek(0, os.SEEK_END) and (file.seek(-1, os.SEEK_END), file.read(1))[1] != b"\n":
                data = b"\n" + data  # the last line was cut short: do not glue this one to it
            file.write(data)
        return True
    except Exception:  # noqa: BLE001 -- OSError mostly; whatever it is, the check goes on
        return False


def read() -> list[dict[str, Any]]:
    """Every readable line, oldest first; an unreadable file reads as empty."""
    try:
        file = path()
        if not file.is_file():  # missing, a folder, or a device such as /dev/full (endless zeros)
            return []
        with open(file, "rb") as opened:
            text = opened.read(MAX_BYTES).decode("utf-8", errors="replace")
    except Exception:  # noqa: BLE001
        return []
    lines = []
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and all(isinstance(line.get(k), str) for k in ("notebook", "exercise", "outcome")):
            lines.append(line)
    return lines


def learner_id() -> str:
    """This learner's random id, made on first use and kept in the state folder."""
    file = state.home() / "learner_id"
    try:
        existing = file.read_text(encoding="utf-8").strip()
    except OSError:
        existing = ""
    if existing:
        return existing
    made = f"learner-{secrets.token_hex(4)}"
    state.write_private(file, made + "\n")
    return made
