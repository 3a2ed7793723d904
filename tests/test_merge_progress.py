"""tools/merge_progress.py on real export files: one table for the room, a summary per exercise, a plot."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from support.services.progress_summary import CSV_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
T1, T2, T3 = "2026-12-01T10:00:00+00:00", "2026-12-01T11:00:00+00:00", "2026-12-01T12:00:00+00:00"


def export(path: Path, learner: str, rows: list[tuple[str, str, str, str, int, int, str]]) -> Path:
    """An export as ``python -m support progress --export`` writes it: (notebook, exercise, title, status, tries,
    hints, last_at) per row."""
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for notebook, exercise, title, status, tries, hints, last_at in rows:
            writer.writerow(
                {
                    "learner": learner,
                    "notebook": notebook,
                    "exercise": exercise,
                    "title": title,
                    "status": status,
                    "tries": tries,
                    "hints": hints,
                    "solution_shown": "no",
                    "first_try_at": last_at if tries else "",
                    "last_at": last_at,
                }
            )
    return path


def merge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/merge_progress.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_three_exports_make_one_table_a_summary_and_a_plot(tmp_path: Path) -> None:
    stopwatch, sort, q1 = (
        ("01_slow_request", "Exercise 1", "Your own stopwatch"),
        ("01_slow_request", "Exercise 2", "Background or request?"),
        ("07_check_for_understanding", "Question 1", ""),
    )
    alice = export(
        tmp_path / "alice.csv",
        "alice",
        [(*stopwatch, "correct", 1, 0, T1), (*sort, "tried", 2, 1, T1), (*q1, "correct", 1, 0, T1)],
    )
    bob = export(
        tmp_path / "bob.csv", "bob", [(*stopwatch, "used the reference", 0, 2, T1), (*sort, "not attempted", 0, 0, "")]
    )  # an older export: no quiz yet
    alice_later = export(tmp_path / "alice2.csv", "alice", [(*sort, "correct", 3, 1, T2)])
    carol = export(tmp_path / "carol.csv", "carol", [(*stopwatch, "tried", 4, 0, T3), (*sort, "correct", 1, 0, T3)])
    room, plot = tmp_path / "room.csv", tmp_path / "room.png"
    done = merge(str(alice), str(bob), str(alice_later), str(carol), "--out", str(room), "--plot", str(plot))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "3 learners, 3 exercises\n"
        "  01_slow_request  Exercise 1: Your own stopwatch: 1 correct, 1 used the reference, 1 tried, 0 not attempted\n"
        "  01_slow_request  Exercise 2: Background or request?: 2 correct, 0 used the reference, 0 tried, "
        "1 not attempted\n"
        "  07_check_for_understanding  Question 1: 1 correct, 0 used the reference, 0 tried, 2 not attempted\n"
        f"Wrote 7 rows to {room}\n"
        f"Wrote the plot to {plot}\n"
    )
    rows = [(r["learner"], r["exercise"], r["status"], r["tries"], r["last_at"]) for r in csv.DictReader(room.open())]
    assert rows == [
        ("alice", "Exercise 1", "correct", "1", T1),
        ("bob", "Exercise 1", "used the reference", "0", T1),
        ("carol", "Exercise 1", "tried", "4", T3),
        ("alice", "Exercise 2", "correct", "3", T2),  # the later export of alice's wins
        ("bob", "Exercise 2", "not attempted", "0", ""),
        ("carol", "Exercise 2", "correct", "1", T3),
        ("alice", "Question 1", "correct", "1", T1),
    ]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_a_file_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("name,score\nalice,3\n")
    done = merge(str(other), "--out", str(tmp_path / "room.csv"))
    assert done.returncode == 1 and "other.csv: not a progress export (no column exercise, first_try_at" in done.stderr
    assert not (tmp_path / "room.csv").exists()
