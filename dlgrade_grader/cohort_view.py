"""What a TA reads at a glance after a cohort run: where the marks are, which checks fail,
which mistakes recur (what to re-teach), all linked from one page, ``reports/index.html``.

Check outcomes and named mistakes come from the verifier's sidecars (typed data, one per
autograded notebook); scores come from the rows :func:`.report.collect` read from the
gradebook, so manual grades count.
"""
from __future__ import annotations

import csv
import html
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .canvas import CANVAS_NAME, PENDING_NAME, waiting_reason
from .preprocessors import SIDECAR_SUFFIX

HISTOGRAM_NAME = "score_distribution.png"
HEATMAP_NAME = "pass_rates_{assignment}.png"  # one per assignment: a class has 150 checks
MISTAKES_NAME = "mistakes.csv"
INDEX_NAME = "index.html"
SIMILARITY_INDEX = Path("similarity") / "index.html"
TOP_MISTAKES = 3


@dataclass
class CheckStats:
    """One check of one assignment, visible or hidden, over the cohort."""
    assignment: str
    check: str
    hidden: bool
    graded: int = 0
    passed: int = 0
    mistakes: dict = field(default_factory=lambda: defaultdict(list))   # message -> students

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else float("nan")


def check_stats(course: Path, rows: list[dict]) -> list[CheckStats]:
    """Per (assignment, check, visible/hidden), in the order the checks first appear."""
    stats: dict = {}
    for row in rows:
        if row["status"] == "missing":
            continue
        folder = course / "autograded" / row["student"] / row["assignment"]
        for sidecar in sorted(folder.glob(f"*{SIDECAR_SUFFIX}")) if folder.is_dir() else []:
            try:
                cells = json.loads(sidecar.read_text(encoding="utf-8")).get("cells", {})
            except (OSError, ValueError):
                continue
            seen = set()
            for cell in cells.values():
                for entry in cell.get("checks", []):
                    key = (row["assignment"], entry["id"], bool(entry.get("hidden")))
                    if key in seen:
                        continue
                    seen.add(key)
                    s = stats.setdefault(key, CheckStats(*key))
                    s.graded += 1
                    s.passed += bool(entry.get("passed"))
                    for message in entry.get("mistakes", []):
                        s.mistakes[message].append(row["student"])
    return list(stats.values())


def plot_histograms(path: Path, rows: list[dict], assignments: list) -> bool:
    """One histogram of total scores (% of the maximum) per assignment."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    panels = []
    for hw in assignments:
        graded = [r for r in rows if r["assignment"] == hw and r["status"] != "missing" and r["max_score"]]
        if graded:
            panels.append((hw, [100.0 * (r["score"] or 0.0) / r["max_score"] for r in graded],
                           sum(bool(waiting_reason(r)) for r in graded)))
    if not panels:
        return False
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), squeeze=False)
    for ax, (hw, totals, waiting) in zip(axes[:, 0], panels):
        ax.hist(totals, bins=[5 * i for i in range(21)], color="tab:blue", edgecolor="white")
        title = f"{hw}: total score, {len(totals)} submissions"
        if waiting:
            title += f" ({waiting} waiting for manual grading)"
        ax.set_title(title, fontsize=10)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of the maximum")
        ax.set_ylabel("students")
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_pass_rates(path: Path, stats: list[CheckStats], assignment: str) -> bool:
    """Rows: the assignment's checks; columns: visible, hidden; colour: share of submissions
    that passed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    checks = list(dict.fromkeys(s.check for s in stats if s.assignment == assignment))
    if not checks:
        return False
    rate = {(s.check, s.hidden): s.pass_rate for s in stats if s.assignment == assignment}
    grid = np.array([[rate.get((c, h), np.nan) for h in (False, True)] for c in checks])
    graded = max(s.graded for s in stats if s.assignment == assignment)
    fig, ax = plt.subplots(figsize=(6, 1.3 + 0.25 * len(checks)))
    cmap = plt.get_cmap("RdYlGn").copy()
    cmap.set_bad("#dddddd")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(j, i, f"{100 * value:.0f}%", ha="center", va="center", fontsize=7)
    ax.set_xticks([0, 1], ["visible", "hidden"])
    ax.set_yticks(range(len(checks)), checks, fontsize=7)
    ax.set_title(f"{assignment}: share of {graded} submissions passing each check\n"
                 "(grey: the check has no such part)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.05)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_mistakes(path: Path, stats: list[CheckStats]) -> list[tuple]:
    """Every named mistake with the students who made it (on the visible or the hidden cases),
    most frequent first: (students, assignment, check, mistake, student ids)."""
    who = defaultdict(set)
    for s in stats:
        for message, students in s.mistakes.items():
            who[s.assignment, s.check, message].update(students)
    found = sorted(((len(ids), hw, check, message, sorted(ids)) for (hw, check, message), ids in who.items()),
                   key=lambda t: (-t[0], t[1], t[2], t[3]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["assignment", "check", "mistake", "students", "for example"])
        for n, hw, check, message, ids in found:
            out.writerow([hw, check, message, n, " ".join(ids[:5])])
    return found


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def write_index(reports: Path, rows: list[dict], assignments: list, summary_text: str,
                mistakes: list[tuple], plots: list[str]) -> Path:
    course = reports.parent
    esc = html.escape
    parts = ["<h1>Cohort report</h1>",
             "<p>" + " · ".join(_link(name, name) for name in
                                ("grades.csv", CANVAS_NAME, PENDING_NAME, MISTAKES_NAME, "summary.txt")
                                if (reports / name).exists()) + "</p>"]
    if (reports / SIMILARITY_INDEX).exists():
        parts.append(f"<p>Similar submissions flagged for review: {_link(str(SIMILARITY_INDEX), 'similarity report')}</p>")
    else:
        parts.append("<p>No similarity report yet (<code>dlgrade similarity</code> makes one).</p>")
    parts += [f'<p><img src="{esc(p)}" alt="{esc(p)}" style="max-width:100%"></p>' for p in plots]
    parts.append("<h2>What to re-teach: the most frequent named mistakes</h2>")
    if mistakes:
        top = defaultdict(list)
        for item in mistakes:
            top[item[1], item[2]].append(item)
        parts.append("<table border=1 cellpadding=4><tr><th>assignment</th><th>check</th><th>mistakes</th></tr>")
        for (hw, check), items in top.items():
            lines = "<br>".join(f"{n} student{'s' if n != 1 else ''}: {esc(message)}"
                                for n, _, _, message, _ in items[:TOP_MISTAKES])
            parts.append(f"<tr><td>{esc(hw)}</td><td>{esc(check)}</td><td>{lines}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No modelled mistake was recognised in this cohort.</p>")
    parts.append("<h2>Students</h2><table border=1 cellpadding=4><tr><th>student</th>"
                 + "".join(f"<th>{esc(hw)}</th>" for hw in assignments) + "</tr>")
    by_student = defaultdict(dict)
    for row in rows:
        by_student[row["student"]][row["assignment"]] = row
    for sid in sorted(by_student):
        cells = []
        for hw in assignments:
            row = by_student[sid].get(hw)
            if row is None or row["status"] == "missing":
                cells.append("<td>not submitted</td>")
                continue
            text = f"{row['score'] or 0:g}/{row['max_score']:g}"
            pages = sorted((course / "feedback" / sid / hw).glob("*.html"))
            if pages:
                text = _link(str(Path("..") / pages[0].relative_to(course)), text)
            why = waiting_reason(row) or (row["reason"] if row["status"] != "ok" else "")
            cells.append(f"<td>{text}" + (f"<br><small>{esc(why)}</small>" if why else "") + "</td>")
        parts.append(f"<tr><td>{esc(sid)}</td>{''.join(cells)}</tr>")
    parts.append("</table>")
    parts.append(f"<h2>Summary</h2><pre>{esc(summary_text)}</pre>")
    page = reports / INDEX_NAME
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Cohort report</title></head>'
                    f"<body>{''.join(parts)}</body></html>\n", encoding="utf-8")
    return page


def write_view(course: Path, rows: list[dict], assignments: list, summary_text: str) -> list[Path]:
    """Every file of the instructor's view; returns the ones written."""
    reports = course / "reports"
    stats = check_stats(course, rows)
    written, plots = [], []
    if plot_histograms(reports / HISTOGRAM_NAME, rows, assignments):
        plots.append(HISTOGRAM_NAME)
    for hw in assignments:
        name = HEATMAP_NAME.format(assignment=hw)
        if plot_pass_rates(reports / name, stats, hw):
            plots.append(name)
    mistakes = write_mistakes(reports / MISTAKES_NAME, stats)
    written += [reports / p for p in plots] + [reports / MISTAKES_NAME]
    written.append(write_index(reports, rows, assignments, summary_text, mistakes, plots))
    return written
