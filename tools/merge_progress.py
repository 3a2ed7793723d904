"""Merge learners' progress exports into one table for the room, and plot which exercises it struggles with.

Each learner runs ``python -m support progress --export NAME.csv`` and hands the file in (nothing is sent by
itself); the instructor runs:

    python tools/merge_progress.py alice.csv bob.csv ... --out room.csv --plot room.png

``room.csv`` has the exports' columns, one row per learner and exercise. When a learner's exercise appears twice
(an export handed in twice), the row with the later ``last_at`` wins. The summary printed, and the plot, give for
each exercise the share of learners per status; a learner with no row for an exercise counts as not attempted.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support.services.progress_summary import CSV_COLUMNS, STATUSES  # noqa: E402

Key = tuple[str, str]  # (notebook, exercise)
COLOURS = {"correct": "#1a7f37", "used the reference": "#1f6fd1", "tried": "#d4a72c", "not attempted": "#c8c8c8"}


def read_exports(paths: Sequence[Path]) -> list[dict[str, str]]:
    """Every row of every export; a repeated (learner, notebook, exercise) keeps the row with the later last_at."""
    merged: dict[tuple[str, str, str], dict[str, str]] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise SystemExit(f"{path}: not a progress export (no column {', '.join(sorted(missing))})")
            for row in reader:
                key = (row["learner"], row["notebook"], row["exercise"])
                if key not in merged or row["last_at"] >= merged[key]["last_at"]:
                    merged[key] = {column: row[column] for column in CSV_COLUMNS}
    return list(merged.values())


def exercises(rows: Sequence[dict[str, str]]) -> dict[Key, str]:
    """Every exercise named in the rows -> its label, by notebook, then in the order the exports list them."""
    found: dict[Key, str] = {}
    for row in rows:
        label = f"{row['exercise']}: {row['title']}" if row["title"] else row["exercise"]
        found.setdefault((row["notebook"], row["exercise"]), label)
    order = list(found)
    return {key: found[key] for key in sorted(found, key=lambda k: (k[0], order.index(k)))}


def counts(rows: Sequence[dict[str, str]]) -> tuple[int, dict[Key, dict[str, int]]]:
    """The number of learners, and per exercise how many of them are at each status."""
    learners = {row["learner"] for row in rows}
    table = {key: dict.fromkeys(STATUSES, 0) for key in exercises(rows)}
    for row in rows:
        table[(row["notebook"], row["exercise"])][row["status"]] += 1
    for per_status in table.values():
        per_status["not attempted"] += len(learners) - sum(per_status.values())
    return len(learners), table


def summary(rows: Sequence[dict[str, str]]) -> str:
    learners, table = counts(rows)
    labels = exercises(rows)
    lines = [f"{learners} learner{'s' * (learners != 1)}, {len(table)} exercises"]
    for key, per_status in table.items():
        shown = ", ".join(f"{per_status[s]} {s}" for s in STATUSES)
        lines.append(f"  {key[0]}  {labels[key]}: {shown}")
    return "\n".join(lines)


def write_table(rows: Sequence[dict[str, str]], out: Path) -> None:
    order = list(exercises(rows))
    ordered = sorted(rows, key=lambda r: (order.index((r["notebook"], r["exercise"])), r["learner"]))
    with open(out, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(ordered)


def plot(rows: Sequence[dict[str, str]], out: Path) -> None:
    """Horizontal bars, one per exercise (course order, top to bottom): the share of learners at each status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    learners, table = counts(rows)
    labels = [f"{nb}  {label}" for (nb, _), label in exercises(rows).items()][::-1]
    shares = {s: [table[key][s] / learners for key in table][::-1] for s in STATUSES}
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(labels) + 1.5))
    left = [0.0] * len(labels)
    for status in STATUSES:
        ax.barh(labels, shares[status], left=left, color=COLOURS[status], label=status)
        left = [a + b for a, b in zip(left, shares[status])]
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of the {learners} learner{'s' * (learners != 1)}")
    ax.set_title("Which exercises the room struggles with", pad=40)
    ax.legend(ncols=2, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", nargs="+", type=Path, help="CSV files from python -m support progress --export")
    parser.add_argument("--out", type=Path, required=True, help="the merged table (CSV)")
    parser.add_argument("--plot", type=Path, help="a PNG of the share of learners per status, per exercise")
    args = parser.parse_args(argv)
    rows = read_exports(args.exports)
    write_table(rows, args.out)
    print(summary(rows))
    print(f"Wrote {len(rows)} rows to {args.out}")
    if args.plot:
        plot(rows, args.plot)
        print(f"Wrote the plot to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
