"""A multiple-choice question: checked from code (``q.check("b")``) or through a widget of radio/toggle buttons."""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .exercise import Exercise
from .placeholder import ____, describe
from .results import Incorrect, NotAttempted, Result


class Choice(Exercise):
    """A multiple-choice question, checked from code (``q.check("b")``) or through :meth:`widget`."""

    def __init__(
        self,
        name: str,
        question: str,
        options: Mapping[str, str] | Sequence[str],
        answer: str | Iterable[str],
        *,
        explanations: Mapping[str, str] | None = None,
        title: str = "",
        hints: Sequence[str] = (),
    ) -> None:
        self.question = question
        self.options = dict(options) if isinstance(options, Mapping) else dict(zip("abcdefghij", options))
        self.answer = {answer} if isinstance(answer, str) else set(answer)
        self.explanations = dict(explanations or {})
        if not self.answer <= self.options.keys():
            raise ValueError(f"{name}: every right answer must be one of the options {list(self.options)}")
        solution = ", ".join(f"{k}) {self.options[k]}" for k in sorted(self.answer))
        super().__init__(name, title=title, hints=hints, solution=solution)

    def _parse(self, value: Any) -> set[str]:
        """The letters picked: case, spaces, commas and brackets around a letter ("B", " b ", "b)") do not matter."""
        picks = (
            value.replace(",", " ").split()
            if isinstance(value, str)
            else list(value)
            if isinstance(value, (list, tuple, set, frozenset))
            else [value]
        )
        picks = [p.strip("().").lower() if isinstance(p, str) and p not in self.options else p for p in picks]
        if not picks:
            raise NotAttempted('your answer is empty: write the letter of your choice, like "a".')
        if any(not isinstance(p, str) or p not in self.options for p in picks):
            raise Incorrect(f"You chose {describe(value)}; pick from {', '.join(self.options)}.")
        if len(self.answer) == 1 and len(set(picks)) > 1:
            raise Incorrect(
                f"You chose {', '.join(sorted(set(picks)))}: this question has one right answer. Pick one letter."
            )
        return set(picks)

    def evaluate(self, value: Any) -> Result | str | None:
        picks = self._parse(value)
        if picks == self.answer:
            return " ".join(self.explanations[p] for p in sorted(picks) if p in self.explanations) or None
        chosen = ", ".join(f"{p}) {self.options[p]}" for p in sorted(picks))
        why = " ".join(self.explanations[p] for p in sorted(picks - self.answer) if p in self.explanations)
        if not why and len(self.answer) > 1:
            why = "At least one option is wrong or missing." if picks & self.answer else "None of those is right."
        raise Incorrect(f"You chose {chosen}. {why or 'Think again.'}")

    def widget(self) -> Any:
        """RadioButtons (one answer) or a row of ToggleButtons (several); choosing runs :meth:`check`."""
        import ipywidgets as w

        labels = [(f"{k}) {v}", k) for k, v in self.options.items()]
        question = w.HTML(f"<b>{html.escape(self.label)}</b>: {html.escape(self.question)}")
        feedback = w.HTML("")
        if len(self.answer) == 1:
            picker: Any = w.RadioButtons(options=labels, value=None, layout={"width": "max-content"})
            picker.observe(lambda _: self._show(picker.value, feedback), names="value")
        else:
            picker = w.VBox([w.ToggleButton(description=label, layout={"width": "max-content"}) for label, _ in labels])
            keys = [k for _, k in labels]
            for button in picker.children:
                button.observe(
                    lambda _: self._show([k for k, b in zip(keys, picker.children) if b.value] or ____, feedback),
                    names="value",
                )
        return _choice_box_class()([question, picker, feedback], text=self._text())

    def _show(self, value: Any, feedback: Any) -> None:
        feedback.value = self.check(____ if value is None else value)._repr_mimebundle_()["text/html"]

    def _text(self) -> str:
        lines = [f"{self.label}: {self.question}", *(f"  {k}) {v}" for k, v in self.options.items())]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self._text(), "text/html": "<br>".join(map(html.escape, self._text().splitlines()))}


@functools.cache
def _choice_box_class() -> type:
    import ipywidgets as w

    class ChoiceBox(w.VBox):
        """A VBox whose text/plain form is the question and its options, not the widget's state."""

        def __init__(self, children: list[Any], text: str) -> None:
            super().__init__(children)
            self._text = text

        def __repr__(self) -> str:
            return self._text

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            return {**(super()._repr_mimebundle_(**kwargs) or {}), "text/plain": self._text}

    return ChoiceBox
