"""The pages of the similarity report: one side-by-side view per flagged pair, and an index.

Pages are self-contained (inline CSS, no scripts, nothing fetched) so they open from a
CI artifact or a laptop offline; copydetect's own report template loads Bootstrap from a CDN.
"""
from __future__ import annotations

import csv
import html
from pathlib import Path
from urllib.parse import quote

from copydetect.utils import highlight_overlap

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
.note { color: #555; max-width: 60em; }
.side { display: flex; gap: 1em; align-items: flex-start; }
.side > div { flex: 1 1 50%; min-width: 0; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 85%; }
mark { background: #f6c6c6; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
"""
NOTE = ("Highlighted: code found in both notebooks after the release skeleton was removed and names, "
        "comments and strings were normalised. A high score is a reason to look, not proof of copying.")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def write_pair_page(path: Path, pair, comparison) -> None:
    """Every solution cell either student wrote, side by side; shared code highlighted."""
    matches = {m.cell: m for m in comparison.matches[pair.student_a, pair.student_b]}
    sources = [dict(comparison.code[s].cells) for s in (pair.student_a, pair.student_b)]
    rows = []
    for cell in dict.fromkeys([*sources[0], *sources[1]]):
        columns = []
        for side, source in enumerate(sources):
            text = source.get(cell, "")
            if cell in matches:
                slices = (matches[cell].slices_a, matches[cell].slices_b)[side]
                shown, _ = highlight_overlap(text, slices, "<mark>", "</mark>", escape_html=True)
            else:
                shown = html.escape(text)
            columns.append(f"<div><pre>{shown}</pre></div>")
        cells = f"<div class='side'>{''.join(columns)}</div>"
        title = html.escape(cell)
        rows.append(f"<h3>{title}: shared code</h3>{cells}" if cell in matches else
                    f"<details><summary>{title}: nothing shared</summary>{cells}</details>")
    heads = "".join(f"<div><h2>{html.escape(s)}</h2><p>{share:.0%} of this student's own code is shared</p></div>"
                    for s, share in ((pair.student_a, pair.similarity_a), (pair.student_b, pair.similarity_b)))
    body = (f"<p>Assignment <b>{html.escape(pair.assignment)}</b>: score {pair.score:.0%}, "
            f"{pair.overlap_chars} characters of normalised code shared in "
            f"{len(matches)} cell{'s' * (len(matches) != 1)}.</p>"
            f"<p class='note'>{NOTE}</p>\n<div class='side'>{heads}</div>\n" + "\n".join(rows))
    path.write_text(_page(f"{pair.student_a} and {pair.student_b}", body), encoding="utf-8")


def write_index(out_dir: Path) -> Path:
    """List the flagged pairs of every assignment whose CSV is in out_dir."""
    sections = []
    for table in sorted(out_dir.glob("*.csv")):
        with open(table, newline="") as fh:
            flagged = [row for row in csv.DictReader(fh) if row.get("flagged") == "yes"]
        rows = "".join(
            f"<tr><td><a href='{quote(row['html'])}'>{html.escape(row['student_a'])} and "
            f"{html.escape(row['student_b'])}</a></td><td>{float(row['score']):.0%}</td>"
            f"<td>{html.escape(row['cells'])}</td></tr>" for row in flagged)
        listing = (f"<table><tr><th>pair</th><th>score</th><th>cells</th></tr>{rows}</table>"
                   if flagged else "<p>no pair flagged</p>")
        sections.append(f"<h2>{html.escape(table.stem)}</h2>{listing}"
                        f"<p><a href='{quote(table.name)}'>all listed pairs (CSV)</a></p>")
    body = f"<p class='note'>{NOTE}</p>\n" + ("\n".join(sections) or "<p>no assignment compared yet</p>")
    index = out_dir / "index.html"
    index.write_text(_page("Similarity report: flagged pairs", body), encoding="utf-8")
    return index
