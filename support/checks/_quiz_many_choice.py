"""A question of 07_check_for_understanding's quiz (``support.checks.quiz``) with several right answers:
``ManyChoice``, the kind of its Question 1.
"""

from __future__ import annotations

from typing import Any

from ..exercises import Choice, Incorrect, Result


class ManyChoice(Choice):
    """A question with several right answers. A wrong pick gets its explanation; for the right ones left out, the
    learner hears how many are missing, not which (that would give the answer away)."""

    def evaluate(self, value: Any) -> Result | str | None:
        picks = self._parse(value)
        if picks == self.answer:
            return super().evaluate(value)
        wrong, missing = sorted(picks - self.answer), len(self.answer - picks)
        parts = [f"{p}) does not belong: {self.explanations[p]}" for p in wrong]
        if missing:
            more = "1 more belongs" if missing == 1 else f"{missing} more belong"
            parts.append(
                f"{'Also, ' if wrong else 'Right so far, but '}{more} in the background: look again at the "
                "ones you left out."
            )
        raise Incorrect(" ".join(parts))
