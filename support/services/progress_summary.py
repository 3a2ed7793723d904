"""From the progress file's lines to one row per exercise, as ``python -m support progress``, ``progress.show()``
and the CSV export show it. Pure: lines and the list of exercises in, rows and text out.

The rules, for each exercise (a notebook and an exercise name), from its lines oldest first:

- **correct**: at least one check was correct. Correct stays correct: a later wrong or blank check, a hint, the
  solution or a fallback does not take it back.
- **used the reference**: never correct, and a later cell went on with the reference (``use()`` fell back).
  This outranks "tried": what an instructor wants to know is that the learner did not get there.
- **tried**: never correct, no fallback, at least one check was incorrect. A later blank check (the notebook run
  again from the top) does not undo a try.
- **not attempted**: none of the above (only blank checks, hints, the solution, or nothing at all).

``hints`` counts the different hints shown (hint 1 shown twice counts once); ``solution`` says whether the
solution was shown; ``tries`` counts the checks with an answer (correct or incorrect); ``first_try_at`` is the
first of those, ``last_at`` the last line of any kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("correct", "used the reference", "tried", "not attempted")
CSV_COLUMNS = (
    "learner",
    "notebook",
    "exercise",
    "title",
    "status",
    "tries",
    "hints",
    "solution_shown",
    "first_try_at",
    "last_at",
)


@dataclass
class Row:
    """What one learner did with one exercise."""

    notebook: str
    exercise: str
    title: str = ""
    status: str = "not attempted"
    tries: int = 0
    hints_seen: set[str] = field(default_factory=set)
    solution_shown: bool = False
    first_try_at: str = ""
    last_at: str = ""

    @property
    def hints(self) -> int:
        return len(self.hints_seen)

    @property
    def label(self) -> str:
        return f"{self.exercise}: {self.title}" if self.title else self.exercise

    def add(self, line: dict[str, Any]) -> None:
        """Take one line of the progress file into account (lines come oldest first)."""
        outcome, at = line["outcome"], str(line.get("at", ""))
        self.last_at = at or self.last_at
        if outcome in ("correct", "incorrect"):
            self.tries += 1
            self.first_try_at = self.first_try_at or at
        if outcome.startswith("hint "):
            self.hints_seen.add(outcome)
        self.solution_shown |= outcome == "solution shown"
        new = {"correct": "correct", "used the reference": "used the reference", "incorrect": "tried"}.get(outcome)
        if new and STATUSES.index(new) < STATUSES.index(self.status):
            self.status = new

    def as_csv(self, learner: str) -> dict[str, str | int]:
        return {
            "learner": learner,
            "notebook": self.notebook,
            "exercise": self.exercise,
            "title": self.title,
            "status": self.status,
            "tries": self.tries,
            "hints": self.hints,
            "solution_shown": "yes" if self.solution_shown else "no",
            "first_try_at": self.first_try_at,
            "last_at": self.last_at,
        }


def summarize(
    lines: Iterable[dict[str, Any]], exercises: Sequence[tuple[str, str, str]] = (), notebook: str | None = None
) -> list[Row]:
    """One row per exercise: every one in `exercises` ((notebook, name, title) in course order), then any other
    the lines name; only `notebook`'s when given. Sorted by notebook, then course order."""
    rows = {(nb, name): Row(nb, name, title) for nb, name, title in exercises}
    for line in lines:
        key = (line["notebook"], line["exercise"])
        if key not in rows:
            rows[key] = Row(*key)
        rows[key].add(line)
    order = list(rows)
    picked = [row for row in rows.values() if notebook is None or row.notebook == notebook]
    return sorted(picked, key=lambda r: (r.notebook, order.index((r.notebook, r.exercise))))


def by_notebook(rows: Iterable[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.notebook, []).append(row)
    return grouped


def totals(rows: Sequence[Row]) -> str:
    """ "3 correct, 1 used the reference, 2 tried, 20 not attempted; 4 hints taken" """
    counts = ", ".join(f"{sum(r.status == s for r in rows)} {s}" for s in STATUSES)
    hints = sum(r.hints for r in rows)
    return f"{counts}; {hints} hint{'s' * (hints != 1)} taken"


def report(rows: Sequence[Row]) -> str:
    """The text table: a heading per notebook, a line per exercise, the totals last."""
    if not rows:
        return "No exercises yet."
    width = max(len(r.label) for r in rows)
    out = []
    for notebook, group in by_notebook(rows).items():
        out.append(notebook)
        for r in group:
            extra = "   solution shown" if r.solution_shown else ""
            out.append(f"  {r.label:<{width}}  {r.status:<18}  hints: {r.hints}{extra}")
    out.append(f"Total: {totals(rows)}")
    return "\n".join(out)
