"""The Work-It form widget works from the keyboard: Enter in the Email field sends the form, as Submit does; every
control has a name and a tooltip. (The browser test, tests/test_browser_controls.py, presses the keys for real.)"""

from __future__ import annotations

from pathlib import Path

from support.services import app
from support.widgets.form_widget import WorkItForm


def test_enter_in_the_email_field_sends_the_form(shared_course: Path) -> None:
    app.start(delivery="inline", delay=0)  # the real app, answering at once
    form = WorkItForm()
    try:
        form.email.value, form.thought.value = "ada@example.com", "coffee"
        # what the browser sends when Enter is pressed in a Text widget (ipywidgets' TextView)
        form.email._handle_custom_msg({"event": "submit"}, [])
        assert len(form.results) == 1, "Enter in the Email field did not send the form"
        assert form.results[0]["ok"] and "Answered in" in form.answer.value, form.answer.value
        form.email._handle_custom_msg({"event": "something else"}, [])
        assert len(form.results) == 1
    finally:
        form.close()


def test_every_control_has_a_name_and_a_tooltip() -> None:
    form = WorkItForm()
    try:
        for control in (form.email, form.thought, form.button):
            assert control.description and control.tooltip, f"{control!r} has no accessible name or tooltip"
    finally:
        form.close()
