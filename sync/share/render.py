"""Rendering the buyer's plan: plan data in, bytes out (HTML and PDF from one template).

Pure: no I/O beyond reading the packaged template, no clock (the document's date is the
plan's ``as_of``). The share job (``sync/jobs/share.py``) stores the bytes in Salesforce.

Choices:

- **Jinja2** for the one template (``templates/plan.html.j2``), autoescaped, so a rep's text
  (a summary with ``<`` or ``&``) can never inject markup into the buyer's copy.
- **fpdf2** for the PDF: pure Python, installs from PyPI as wheels on a fresh machine with no
  system packages (no Cairo/Pango as WeasyPrint needs, no browser as HTML-to-PDF tools do),
  and lays out the same template's HTML itself (``FPDF.write_html``: headings, paragraphs,
  lists, links, tables), so there is one template to keep right, not a template and a
  drawing program. reportlab also installs from wheels, but it would need the layout drawn
  a second time in its own flowables. fpdf2's built-in Helvetica covers Latin-1 only, so
  text is folded to it for the PDF (typographic quotes and dashes to their plain forms);
  shipping a Unicode TTF would lift that when buyers' names need it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import lru_cache

from fpdf import FPDF, FontFace, TextStyle
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sync.share.document import SharedPlan

TEMPLATE = "plan.html.j2"
BLUE = "#0b5cab"
#: The PDF's look, matching the HTML's stylesheet where fpdf2 allows it.
PDF_STYLES = {
    "h1": TextStyle(color="#1d2433", font_size_pt=20, b_margin=1, t_margin=2),
    "h2": TextStyle(color=BLUE, font_size_pt=13, font_style="B", b_margin=1, t_margin=5),
    "a": FontFace(color=BLUE, emphasis="UNDERLINE"),
}
_SIDE = {"Buyer": "buyer team", "Seller": "seller team", "Joint": "both teams"}
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                       "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2022": "-",
                       "\u00a0": " ", "\u2192": "->", "\u202f": " "})


def day(value: dt.date | None) -> str:
    """A date as both sides read it, unambiguously: ``Tue 14 Jan 2026``."""
    return value.strftime("%a %d %b %Y") if value is not None else "to be agreed"


def short_day(value: dt.date | None) -> str:
    """A date in a narrow table column: ``14 Jan 2026``."""
    return value.strftime("%d %b %Y") if value is not None else "to agree"


def latin1(text: str) -> str:
    """``text`` in the PDF core font's Latin-1: punctuation folded, accents kept, rest ``?``."""
    text = unicodedata.normalize("NFC", text.translate(_FOLD))
    return text.encode("latin-1", "replace").decode("latin-1")


@lru_cache(maxsize=2)
def _environment(pdf: bool) -> Environment:
    def finalize(value: object) -> object:
        return latin1(value) if pdf and isinstance(value, str) else value

    env = Environment(loader=PackageLoader("sync.share", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      finalize=finalize)
    env.filters["day"] = day
    env.filters["short_day"] = short_day
    env.filters["side"] = lambda side: _SIDE.get(str(side), str(side).lower())
    return env


def render_markup(plan: SharedPlan, *, pdf: bool = False) -> str:
    """The template's output: a whole HTML page, or the PDF's HTML subset."""
    return _environment(pdf).get_template(TEMPLATE).render(plan=plan, pdf=pdf)


def render_html(plan: SharedPlan) -> bytes:
    """A self-contained HTML page (UTF-8): inline CSS, no external assets."""
    return render_markup(plan).encode("utf-8")


def render_pdf(plan: SharedPlan) -> bytes:
    """An A4 PDF of the same content, with a page footer naming the plan."""
    pdf = _PlanPdf(latin1(plan.title))
    pdf.set_title(latin1(f"{plan.title}: Mutual Action Plan"))
    pdf.set_creation_date(dt.datetime.combine(plan.as_of, dt.time(), dt.UTC))
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.write_html(render_markup(plan, pdf=True), tag_styles=PDF_STYLES, font_family="helvetica",
                   li_prefix_color=BLUE, table_line_separators=True)
    return bytes(pdf.output())


def file_name(plan: SharedPlan, extension: str = "pdf") -> str:
    """The File's name as the rep and the buyer see it."""
    safe = "".join(c if c.isalnum() or c in " -_" else " " for c in plan.title).strip()
    return f"{' '.join(safe.split()) or 'Plan'} - Mutual Action Plan.{extension}"


class _PlanPdf(FPDF):
    """A4 portrait with a footer: the plan's title and the page number."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._plan_title = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.set_text_color(110, 118, 132)
        self.cell(0, 6, f"{self._plan_title}  |  Mutual Action Plan  |  page {self.page_no()}",
                  align="C")
        self.set_text_color(0, 0, 0)
