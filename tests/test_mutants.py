"""The mutants of every exercise's reference are rejected by its check (issue 28), within make test's budget.

``make mutants`` runs them all and writes ``tests/mutants_record.json`` (committed): per exercise, a fingerprint of
its check, reference, table and mutants, and what the run found. Here the record must hold no survivor, and the
exercises whose fingerprint is not the record's (a check, reference or table changed since) have their mutants run
now: a survivor fails the test. So a change is judged in CI without running all the mutants again.
"""

from __future__ import annotations

import warnings

import pytest
from mutants import RECORD, ROOT, changed, load_tables, read_record, report, run

AFTER = f"Then run `make mutants` and commit {RECORD.relative_to(ROOT)}."


def test_the_record_has_no_survivor():
    record = read_record()
    survivors = [f"{name}: {', '.join(entry['survived'])}" for name, entry in record.items() if entry["survived"]]
    assert not survivors, (
        "Mutants the checks accepted at the last make mutants (fix the check so it rejects each, naming the broken "
        "requirement, or list it in Table.equivalent with the reason no learner could see a difference):\n  "
        + "\n  ".join(survivors)
    )


@pytest.mark.slow  # nothing to run when the record is up to date; minutes for an exercise whose check changed
def test_changed_exercises_kill_their_mutants():
    tables = load_tables()
    names = changed(tables, read_record())
    if not names:
        return
    outcomes = run(names, tables)
    bad = [o for o in outcomes if o.survived or o.error]
    assert not bad, (
        f"The checks of {', '.join(o.key for o in bad)} changed since the record and accept mutants of their "
        f"reference (or the reference itself fails):\n{report(bad)}\nFix the check, or list a mutant in "
        f"Table.equivalent with the reason it behaves as the reference. {AFTER}"
    )
    warnings.warn(
        f"{len(names)} exercises changed since the mutants' record ({', '.join(names)}). {AFTER}", stacklevel=1
    )
