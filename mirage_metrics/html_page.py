"""Self-contained HTML pages: headings, paragraphs, tables and embedded PNGs.

Used by ``mirage report`` and ``mirage meta-analysis``; it lays out what other
modules computed and plotted, and computes nothing itself.

>>> page = render_page("Demo", [Section("Numbers", [Paragraph("a <b>"), Details("All", [Table(["x"], [[1]])])])])
>>> "<h2>Numbers</h2>" in page and "a &lt;b&gt;" in page and "<details><summary>All</summary>" in page
True
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

__all__ = ["Paragraph", "Table", "Image", "Details", "Section", "render_page"]


@dataclass
class Paragraph:
    """A paragraph; ``lead``, when given, starts it in bold (``Answer: the mirage.``, ``Warning:``)."""

    text: str
    lead: str = ""

    def to_html(self) -> str:
        lead = f"<strong>{html.escape(self.lead)}</strong> " if self.lead else ""
        return f"<p>{lead}{html.escape(self.text)}</p>"


@dataclass
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    float_format: str = "{:.4g}"

    @classmethod
    def from_frame(cls, frame, float_format: str = "{:.4g}") -> "Table":
        """A table from a pandas DataFrame (its columns, in order); missing values (NaN, NA) are empty cells and
        integer columns stay integers (parameter counts in full)."""
        cells = frame.astype(object).where(frame.notna(), None)
        return cls(list(frame.columns), cells.itertuples(index=False, name=None), float_format)

    def _cell(self, value: object) -> str:
        if isinstance(value, float):
            return "" if value != value else self.float_format.format(value)
        return html.escape("" if value is None else str(value))

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{self._cell(v)}</td>" for v in row) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass
class Image:
    """A PNG file, embedded in the page as base64 so the page stands alone."""

    path: Union[str, Path]
    caption: str = ""

    def to_html(self) -> str:
        data = base64.b64encode(Path(self.path).read_bytes()).decode("ascii")
        caption = f"<figcaption>{html.escape(self.caption)}</figcaption>" if self.caption else ""
        return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(self.caption)}">{caption}</figure>'


@dataclass
class Details:
    """Blocks folded away under a one-line summary the reader clicks to open (tables a reader rarely needs)."""

    summary: str
    blocks: list = field(default_factory=list)

    def to_html(self) -> str:
        inner = "\n".join(block.to_html() for block in self.blocks)
        return f"<details><summary>{html.escape(self.summary)}</summary>\n{inner}</details>"


@dataclass
class Section:
    heading: str
    blocks: list = field(default_factory=list)
    level: int = 2

    def to_html(self) -> str:
        inner = "\n".join(block.to_html() for block in self.blocks)
        return f"<section><h{self.level}>{html.escape(self.heading)}</h{self.level}>\n{inner}</section>"


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}
img{max-width:100%}
figure{margin:1em 0}
figcaption{font-size:.9em;color:#555}
details{margin:1em 0}
summary{cursor:pointer;color:#555}
"""


def render_page(title: str, sections: Sequence[Section]) -> str:
    """The whole HTML document as a string."""
    body = "\n".join(section.to_html() for section in sections)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
