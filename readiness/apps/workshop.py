"""The live workshop app: an intake form and live results, built from any instrument.

Apps layer. :func:`intake` builds an ipywidgets app for one workshop session:

- **the form**: who is answering (respondent id and role), then one tab per dimension
  with every item asked of that role, its anchor labels as choices (then "Not
  applicable" where the item allows it, and "Don't know" on every item), an optional
  evidence/comment field, and the progress (answered / asked) per dimension; a last tab
  holds the instrument's open questions, answered in the respondent's own words;
- **live results** beside it: facet and dimension scores and a bar chart for the
  current respondent and for the whole session, recomputed by
  :func:`readiness.core.scoring.score` after every answer.

Every change is written at once to the session store (:class:`readiness.io.session_store.SessionStore`,
one DuckDB file) before the results are redrawn; the app keeps nothing of its own. A
reloaded page, a restarted kernel or a restarted server reads everything back from the
store. A write that fails is shown in red and retried with the next change.

``notebooks/intake.ipynb`` calls :func:`intake`; ``readiness workshop`` serves that
notebook with Voila (:func:`voila_command`).

Example
-------
>>> app = intake(session="northbank-2024-05", store="workshop.duckdb")   # doctest: +SKIP
>>> app            # in JupyterLab or Voila: shows the form                 # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from ipywidgets.widgets.widget_description import DescriptionStyle
from ipywidgets.widgets.widget_string import TextStyle

from ..core.answers import DONT_KNOW_LABEL
from ..core.errors import ReadinessError
from ..core.instrument import Instrument, Item
from ..core.responses import Responses
from ..core.scoring import Scores, score, supported_level
from ..io.resources import notebook_path
from ..io.session_store import SessionStore, check_name

__all__ = [
    "DEFAULT_SESSION",
    "DEFAULT_STORE",
    "DONT_KNOW",
    "ENVIRONMENT",
    "NOT_APPLICABLE",
    "IntakeApp",
    "ItemWidgets",
    "intake",
    "render_results",
    "resolve_parameters",
    "voila_command",
]


#: Environment variables that ``readiness workshop`` sets for the notebook; an empty
#: notebook parameter falls back to them (Voila passes no parameters of its own).
ENVIRONMENT: dict[str, str] = {
    "instrument": "READINESS_INSTRUMENT",
    "session": "READINESS_SESSION",
    "store": "READINESS_STORE",
    "org_id": "READINESS_ORG",
}
DEFAULT_SESSION = "workshop"
DEFAULT_STORE = "workshop.duckdb"
#: The choice values that stand for "not applicable" and "don't know" (answers are 1..scale_points).
NOT_APPLICABLE = "na"
NOT_APPLICABLE_LABEL = "Not applicable"
DONT_KNOW = "dk"
#: Title of the tab that holds the open questions.
OPEN_TAB = "In your own words"

_CSS = """
<style>
.readiness-app { max-width: 1500px; }
.readiness-app h2 { margin: 0 0 4px 0; }
.readiness-app .widget-radio-box label { white-space: normal; line-height: 1.3; margin: 2px 0; }
.readiness-app .widget-radio-box { width: auto; }
.readiness-item { border-top: 1px solid #e3e6ea; padding: 8px 4px 10px 4px; }
.readiness-item-unsaved { border-left: 4px solid #c0392b; padding-left: 8px; }
.readiness-item-text { font-size: 14px; line-height: 1.4; }
.readiness-app .widget-html-content { line-height: 1.4; }
.readiness-side { position: sticky; top: 8px; align-self: flex-start; }
.readiness-item-id { color: #9aa4ae; font-size: 10px; margin-left: 8px; white-space: nowrap; }
.readiness-facet h3 { margin: 14px 0 2px 0; color: #1f3b57; }
.readiness-facet p { margin: 0 0 4px 0; color: #4a5561; }
.readiness-results { font-size: 13px; }
.readiness-results table { border-collapse: collapse; width: 100%; }
.readiness-results td, .readiness-results th { padding: 2px 6px; text-align: right; }
.readiness-results td:first-child, .readiness-results th:first-child { text-align: left; }
.rd-big { font-size: 26px; font-weight: 600; color: #1f3b57; }
.rd-card { display: inline-block; margin: 0 18px 8px 0; vertical-align: top; }
.rd-bar { background: #eef1f4; height: 12px; width: 100%; margin: 2px 0; position: relative; }
.rd-fill { height: 12px; }
.rd-resp { background: #1f3b57; }
.rd-sess { background: #7fa7c9; }
.rd-dim { margin: 6px 0 8px 0; }
.rd-dim-name { font-weight: 600; }
.rd-key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
.rd-ok { color: #1e7b34; }
.rd-error { color: #c0392b; font-weight: 600; }
.rd-partial { color: #6b7785; font-size: 12px; }
</style>
"""


# ---------------------------------------------------------------------- parameters
def resolve_parameters(
    instrument: str | Path = "",
    session: str = "",
    store: str | Path = "",
    org_id: str = "",
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Fill empty notebook parameters from the environment, then from the defaults.

    Returns a dict with ``instrument`` ("" for the bundled one), ``session``, ``store`` and
    ``org_id`` ("" for the session's own).
    """
    env = os.environ if environ is None else environ
    given = {
        "instrument": str(instrument or ""),
        "session": str(session or ""),
        "store": str(store or ""),
        "org_id": str(org_id or ""),
    }
    out = {name: value or env.get(ENVIRONMENT[name], "") for name, value in given.items()}
    out["session"] = out["session"] or DEFAULT_SESSION
    out["store"] = out["store"] or DEFAULT_STORE
    return out


# ---------------------------------------------------------------------- the app
@dataclass(eq=False)
class ItemWidgets:
    """The widgets of one item: its box, the choice of answer, the comment, a clear button."""

    item: Item
    box: widgets.VBox
    choice: widgets.RadioButtons
    comment: widgets.Text
    clear: widgets.Button


def intake(
    instrument: str | Path | Instrument = "",
    session: str = "",
    store: str | Path | SessionStore = "",
    org_id: str = "",
) -> IntakeApp:
    """The intake app of a session, ready to display.

    Parameters
    ----------
    instrument : str, Path or Instrument
        Instrument YAML or a loaded instrument; empty: ``READINESS_INSTRUMENT``, else the
        bundled question set.
    session : str
        Session name; empty: ``READINESS_SESSION``, else ``workshop``. Reopening a
        session shows every answer given in it so far.
    store : str, Path or SessionStore
        The session store (DuckDB file); empty: ``READINESS_STORE``, else
        ``workshop.duckdb`` in the working folder.
    org_id : str
        Organization stored with each respondent; empty: ``READINESS_ORG``, else the
        session's own (a new session: its name).

    Returns
    -------
    IntakeApp
        Displays itself. When the session cannot be opened (a bad instrument, a store
        locked or of the wrong kind) it shows that one-line message instead of the form.
    """
    params = resolve_parameters(
        "" if isinstance(instrument, Instrument) else instrument,
        session,
        "" if isinstance(store, SessionStore) else store,
        org_id,
    )
    app = IntakeApp(
        instrument if isinstance(instrument, Instrument) else params["instrument"],
        store if isinstance(store, SessionStore) else SessionStore(params["store"]),
        params["session"],
        params["org_id"],
    )
    return app.build()


class IntakeApp:
    """One session's intake form and live results. Build with :func:`intake`.

    The constructor only stores its arguments; :meth:`build` makes the widgets and opens
    the session. After that the public attributes are the widgets a test or a notebook
    may drive: ``respondent`` (Dropdown of the session's respondents), ``role``,
    ``new_id``, ``new_role``, ``add``, ``tabs`` (one per dimension), ``items`` (item id
    -> :class:`ItemWidgets`), ``progress`` (dimension -> HTML), ``results``,
    ``status`` and ``export``; ``shown`` holds the numbers the results panel shows.
    """

    def __init__(
        self, instrument: str | Path | Instrument, store: SessionStore, session: str, org_id: str = ""
    ) -> None:
        self.source = instrument
        self.store = store
        self.session = session
        self.org_id = org_id

    # ------------------------------------------------------------------ building
    def build(self) -> IntakeApp:
        """Open the session and make the widgets; select the most recently active respondent."""
        self.error: str | None = None
        self.instrument: Instrument
        self.shown: dict[str, Any] = {}
        self._loading = False
        self._unsaved: set[str] = set()
        try:
            if isinstance(self.source, Instrument):
                self.instrument = self.source
            else:
                from ..io.loaders import load_instrument

                self.instrument = load_instrument(self.source or None)
            self.info = self.store.open_session(self.session, self.instrument, org_id=self.org_id or None)
        except ReadinessError as exc:
            self.error = str(exc)
            self.widget = widgets.HTML(
                f'{_CSS}<div class="readiness-app"><h2>Readiness workshop</h2>'
                f'<p class="rd-error">Cannot open the session: {html.escape(self.error)}</p>'
                "</div>"
            )
            return self
        inst = self.instrument
        roles = list(inst.roles)
        self.respondent = widgets.Dropdown(
            description="Respondent", options=[], value=None, layout=widgets.Layout(width="280px")
        )
        self.role = widgets.Dropdown(
            description="Role", options=roles, value=None, layout=widgets.Layout(width="220px")
        )
        self.new_id = widgets.Text(
            description="New", placeholder="respondent id, e.g. A7", layout=widgets.Layout(width="260px")
        )
        self.new_role = widgets.Dropdown(options=roles, value=roles[0], layout=widgets.Layout(width="140px"))
        self.add = widgets.Button(description="Add respondent", button_style="primary", icon="user-plus")
        self.export = widgets.Button(
            description="Export CSV", icon="download", tooltip="Write the canonical responses CSV beside the store"
        )
        self.refresh = widgets.Button(
            description="Refresh", icon="refresh", tooltip="Show answers given meanwhile in other browser tabs"
        )
        self.status = widgets.HTML()
        # Stable class names: the browser test (and any automation) finds widgets by them.
        for w, name in (
            (self.respondent, "respondent"),
            (self.role, "role"),
            (self.new_id, "new-id"),
            (self.new_role, "new-role"),
            (self.add, "add"),
            (self.export, "export"),
            (self.refresh, "refresh"),
            (self.status, "status"),
        ):
            w.add_class(f"readiness-{name}")

        self.items: dict[str, ItemWidgets] = {}
        self.progress: dict[str, widgets.HTML] = {}
        self._facet_heads: dict[str, widgets.HTML] = {}
        # Item widgets share their Layout and style objects: hundreds of items would
        # otherwise mean thousands of models for the browser to create on every page load.
        shared = {
            "text": widgets.Layout(width="auto"),
            "choice": widgets.Layout(width="auto", margin="2px 0 2px 12px"),
            "choice_style": DescriptionStyle(description_width="0px"),
            "comment": widgets.Layout(width="70%"),
            "comment_style": TextStyle(),
            "clear": widgets.Layout(width="70px"),
            "clear_style": widgets.ButtonStyle(),
            "row": widgets.Layout(),
        }
        pages = []
        for dim in inst.dimensions:
            head = widgets.HTML()
            self.progress[dim.id] = head
            children: list[widgets.Widget] = [head]
            for facet in dim.facets:
                fhead = widgets.HTML(
                    f'<div class="readiness-facet"><h3>{html.escape(facet.title)}</h3>'
                    f"<p>{html.escape(facet.description)}</p></div>",
                    layout=widgets.Layout(),
                )
                self._facet_heads[facet.id] = fhead
                children.append(fhead)
                for item in facet.items:
                    children.append(self._item_widgets(item, shared).box)
            pages.append(widgets.VBox(children))
        self.open_answers: dict[str, widgets.Textarea] = {}
        if inst.open_questions:
            pages.append(self._open_page(inst))
        self._titles = tuple(d.title or d.id for d in inst.dimensions) + ((OPEN_TAB,) if inst.open_questions else ())
        self.tabs = widgets.Tab(children=pages, titles=self._titles)
        self.hint = widgets.HTML(
            "<p><b>Add a respondent to begin</b>: type an id (initials or a number, "
            "no names needed), choose the role and press <i>Add respondent</i>.</p>"
        )
        self.form = widgets.VBox([self.tabs], layout=widgets.Layout(flex="3 1 0%", min_width="0"))
        self.results = widgets.HTML()
        self.results.add_class("readiness-results-panel")
        side = widgets.VBox(
            [self.results], layout=widgets.Layout(flex="2 1 0%", min_width="320px", padding="0 0 0 16px")
        )
        side.add_class("readiness-side")  # stays in view while the form scrolls
        # What the room sees on the wall: the session and the organization, never a file path.
        title = widgets.HTML(
            f"{_CSS}<h2>{html.escape(inst.title or inst.id)}: workshop</h2>"
            f'<div class="readiness-header">Session <b>{html.escape(self.info.session)}</b> · organization '
            f"<b>{html.escape(self.info.org_id)}</b> · every answer is saved as soon as it is given</div>"
        )
        who = widgets.HBox(
            [self.respondent, self.role, widgets.HTML("&nbsp;" * 4), self.new_id, self.new_role, self.add],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.widget = widgets.VBox(
            [
                title,
                who,
                widgets.HBox([self.status, self.refresh, self.export], layout=widgets.Layout(align_items="center")),
                self.hint,
                widgets.HBox([self.form, side], layout=widgets.Layout(width="100%")),
            ]
        )
        self.widget.add_class("readiness-app")

        self.respondent.observe(self._on_respondent, names="value")
        self.role.observe(self._on_role, names="value")
        self.add.on_click(self._on_add)
        self.export.on_click(self._on_export)
        self.refresh.on_click(lambda _button: self._reload_respondents(select=self.current))
        self._reload_respondents()
        return self

    def _open_page(self, inst: Instrument) -> widgets.VBox:
        """The open questions: a text box each, saved as typed."""
        children: list[widgets.Widget] = [
            widgets.HTML("<p>In the respondent's own words. These answers are never scored.</p>")
        ]
        for question in inst.open_questions:
            box = widgets.Textarea(
                placeholder="Type the answer here (optional)",
                continuous_update=True,
                layout=widgets.Layout(width="90%", height="90px"),
            )
            box.add_class(f"readiness-open-{question.id}")
            self.open_answers[question.id] = box
            part = widgets.VBox(
                [widgets.HTML(f'<div class="readiness-item-text">{html.escape(question.text)}</div>'), box],
                layout=widgets.Layout(),
            )
            part.add_class("readiness-item")
            box.observe(lambda change, q=question.id: self._on_open_answer(q), names="value")
            children.append(part)
        return widgets.VBox(children)

    def _item_widgets(self, item: Item, shared: Mapping[str, widgets.Widget]) -> ItemWidgets:
        options: list[tuple[str, Any]] = [(label, value) for value, label in enumerate(item.labels, start=1)]
        if item.allows_na:
            options.append((NOT_APPLICABLE_LABEL, NOT_APPLICABLE))
        options.append((DONT_KNOW_LABEL, DONT_KNOW))
        # The question leads; its code follows, small and grey, for whoever needs to cross-refer.
        text = widgets.HTML(
            f'<div class="readiness-item-text">{html.escape(item.text)}'
            f'<span class="readiness-item-id">{html.escape(item.id)}</span></div>',
            layout=shared["text"],
        )
        choice = widgets.RadioButtons(
            options=options, value=None, layout=shared["choice"], style=shared["choice_style"]
        )
        # Saved on every keystroke: a comment half typed when the browser closes is kept.
        comment = widgets.Text(
            placeholder="Evidence or comment (optional)",
            continuous_update=True,
            layout=shared["comment"],
            style=shared["comment_style"],
        )
        clear = widgets.Button(
            description="Clear", tooltip="Remove this answer", layout=shared["clear"], style=shared["clear_style"]
        )
        # Its own Layout: hiding the item for a role sets display on this box alone.
        box = widgets.VBox(
            [text, choice, widgets.HBox([comment, clear], layout=shared["row"])], layout=widgets.Layout()
        )
        box.add_class("readiness-item")
        box.add_class(f"readiness-item-{item.id}")
        parts = ItemWidgets(item, box, choice, comment, clear)
        self.items[item.id] = parts
        choice.observe(lambda change, i=item.id: self._on_change(i, rescore=True), names="value")
        comment.observe(lambda change, i=item.id: self._on_change(i, rescore=False), names="value")
        clear.on_click(lambda _button, i=item.id: self._clear(i))
        return parts

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def current(self) -> str | None:
        """The respondent the form shows, or None before one is added."""
        return None if self.error else self.respondent.value

    # ------------------------------------------------------------------ respondents
    def select(self, respondent_id: str) -> None:
        """Show a respondent's answers (as stored) in the form."""
        self.respondent.value = respondent_id

    def _reload_respondents(self, select: str | None = None) -> None:
        """Read the respondents (other tabs may have added some) and show ``select``
        (default: the most recently active one)."""
        frame = self.store.respondents(self.session)
        self._roles = dict(zip(frame["respondent_id"], frame["role"]))
        options = [(f"{rid} ({role})", rid) for rid, role in sorted(self._roles.items())]
        wanted = select if select is not None else (frame["respondent_id"].iat[0] if len(frame) else None)
        self._loading = True
        try:
            self.respondent.options = options
            self.respondent.value = None
        finally:
            self._loading = False
        self.respondent.value = wanted  # observers load the answers (or show the hint)
        if wanted is None:
            self._show_respondent(None)

    def _on_respondent(self, change: Mapping[str, Any]) -> None:
        if not self._loading:
            self._show_respondent(change["new"])

    def _show_respondent(self, rid: str | None) -> None:
        self._loading = True
        try:
            self.form.layout.display = None if rid else "none"
            self.hint.layout.display = "none" if rid else None
            self.role.value = self._roles.get(rid) if rid else None
            self.role.disabled = rid is None
            stored = self.store.answers(self.session, rid) if rid else None
            by_item = {} if stored is None else {row.item_id: row for row in stored.itertuples(index=False)}
            for item_id, parts in self.items.items():
                row = by_item.get(item_id)
                if row is None:
                    parts.choice.value, parts.comment.value = None, ""
                else:
                    parts.choice.value = (
                        NOT_APPLICABLE
                        if row.not_applicable
                        else DONT_KNOW
                        if row.dont_know
                        else None
                        if pd.isna(row.value)
                        else int(row.value)
                    )
                    parts.comment.value = row.comment or ""
                parts.box.remove_class("readiness-item-unsaved")
            for question_id, box in self.open_answers.items():
                row = by_item.get(question_id)
                box.value = (row.comment or "") if row is not None else ""
            self._unsaved.clear()
        finally:
            self._loading = False
        self._apply_role()
        self._refresh()

    def _on_add(self, _source: Any = None) -> None:
        try:
            rid = check_name(self.new_id.value, "respondent_id", source="new respondent")
            created = self.store.add_respondent(self.session, rid, self.new_role.value)
        except ReadinessError as exc:
            self._say(f"Not added: {exc}", error=True)
            return
        self.new_id.value = ""
        self._reload_respondents(select=rid)
        self._say(f"Respondent {rid} added." if created else f"Respondent {rid} already exists; showing their answers.")

    def _on_role(self, change: Mapping[str, Any]) -> None:
        rid = self.current
        if self._loading or rid is None or change["new"] is None:
            return
        try:
            self.store.set_role(self.session, rid, change["new"])
        except ReadinessError as exc:
            self._say(f"Role not changed: {exc}", error=True)
            return
        self._roles[rid] = change["new"]
        self._loading = True
        try:
            self.respondent.options = [(f"{r} ({role})", r) for r, role in sorted(self._roles.items())]
            self.respondent.value = rid
        finally:
            self._loading = False
        self._apply_role()
        self._refresh()
        self._say(f"{rid} is now a {change['new']}.")

    def _apply_role(self) -> None:
        """Show only the items asked of the current respondent's role."""
        role = self._roles.get(self.current or "", None)
        for facet_id, head in self._facet_heads.items():
            facet = self.instrument.facets[facet_id]
            asked_any = False
            for item in facet.items:
                asked = role is not None and role in item.roles
                asked_any |= asked
                self.items[item.id].box.layout.display = None if asked else "none"
            head.layout.display = None if asked_any else "none"
        for question in self.instrument.open_questions:
            asked = role is not None and role in question.roles
            parent = self.open_answers[question.id]
            parent.disabled = not asked
            parent.placeholder = "Type the answer here (optional)" if asked else f"Not asked of {role or 'this role'}s"

    # ------------------------------------------------------------------ answers
    def _on_change(self, item_id: str, *, rescore: bool) -> None:
        if self._loading or self.current is None:
            return
        self._save(item_id)
        for pending in sorted(self._unsaved - {item_id}):
            self._save(pending)  # retry what failed before, now that writing may work again
        if rescore:
            self._refresh()

    def _on_open_answer(self, question_id: str) -> None:
        if self._loading or self.current is None:
            return
        try:
            self.store.save_open_answer(self.session, self.current, question_id, self.open_answers[question_id].value)
        except ReadinessError as exc:
            self._say(f"NOT SAVED ({question_id}): {exc}. The text is still on screen; edit it to retry.", error=True)
            return
        self._say(f"Saved the answer to the open question at {datetime.now():%H:%M:%S}.")

    def _clear(self, item_id: str) -> None:
        parts = self.items[item_id]
        if parts.choice.value is None and not parts.comment.value:
            return
        self._loading = True
        try:
            parts.choice.value = None
            parts.comment.value = ""
        finally:
            self._loading = False
        self._on_change(item_id, rescore=True)

    def _save(self, item_id: str) -> bool:
        parts = self.items[item_id]
        choice = parts.choice.value
        try:
            self.store.save_answer(
                self.session,
                self.current or "",
                item_id,
                None if choice in (None, NOT_APPLICABLE, DONT_KNOW) else int(choice),
                not_applicable=choice == NOT_APPLICABLE,
                dont_know=choice == DONT_KNOW,
                comment=parts.comment.value,
            )
        except ReadinessError as exc:
            self._unsaved.add(item_id)
            parts.box.add_class("readiness-item-unsaved")
            self._say(
                f"NOT SAVED ({item_id}): {exc}. The answer is still on screen; change it again to retry.", error=True
            )
            return False
        self._unsaved.discard(item_id)
        parts.box.remove_class("readiness-item-unsaved")
        if not self._unsaved:
            self._say(f"Saved {item_id} at {datetime.now():%H:%M:%S}.")
        return True

    # ------------------------------------------------------------------ results
    def progress_counts(self) -> dict[str, tuple[int, int]]:
        """Answered (or marked N/A or don't know) and asked items per dimension, for the current respondent."""
        role = self._roles.get(self.current or "", None)
        out: dict[str, tuple[int, int]] = {}
        for dim in self.instrument.dimensions:
            items = [i for f in dim.facets for i in f.items if role is not None and role in i.roles]
            done = sum(self.items[i.id].choice.value is not None for i in items)
            out[dim.id] = (done, len(items))
        return out

    def _refresh(self) -> None:
        counts = self.progress_counts()
        titles = []
        for dim in self.instrument.dimensions:
            done, total = counts[dim.id]
            titles.append(f"{dim.title or dim.id} {done}/{total}")
            self.progress[dim.id].value = (
                f'<div class="readiness-progress" data-dimension="{dim.id}">'
                f"<b>{done} of {total}</b> answered for this respondent</div>"
            )
        self.tabs.titles = tuple(titles) + self._titles[len(titles) :]
        try:
            # someone added but not yet answering does not count toward the session
            responses = self.store.to_responses(self.instrument, session=self.session, answered_only=True)
        except ReadinessError as exc:
            self.results.value = f'<p class="rd-error">Results unavailable: {html.escape(str(exc))}</p>'
            return
        session_scores = score(responses, n_boot=0) if len(responses) else None
        mine = _only(responses, self.current) if self.current else None
        respondent_scores = score(mine, n_boot=0) if mine is not None and len(mine) else None
        self.results.value, self.shown = render_results(
            self.instrument,
            respondent_scores,
            session_scores,
            respondent=self.current,
            by_role=responses.meta["role"].value_counts().to_dict() if len(responses) else {},
            counted=(_facets_counted(mine) if mine is not None else 0, _facets_counted(responses)),
        )

    def _on_export(self, _button: Any = None) -> None:
        target = self.store.path.with_name(f"{self.store.path.stem}-{self.session}.csv")
        try:
            written = self.store.export_csv(target, session=self.session)
        except ReadinessError as exc:
            self._say(f"Not exported: {exc}", error=True)
            return
        self._say(f"Exported to {written.name}, beside the session store (readiness score / assess read it).")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.value = f'<span class="{"rd-error" if error else "rd-ok"}">{html.escape(text)}</span>'


def _only(responses: Responses, respondent_id: str) -> Responses:
    """The one respondent's answers, as a Responses of their own."""
    return responses.take((responses.meta["respondent_id"] == respondent_id).to_numpy())


def _facets_counted(responses: Responses) -> int:
    """Facets that count for these respondents: asked of a role among them, not all marked N/A or don't know."""
    if not len(responses):
        return 0
    layout = responses.instrument.layout
    counted = layout.asked[responses.role_codes] & ~responses.not_applicable & ~responses.dont_know
    return int(((counted.astype(float) @ layout.item_by_facet) > 0).any(axis=0).sum())


# ---------------------------------------------------------------------- results panel
def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _bar(value: float | None, kind: str) -> str:
    width = 0.0 if value is None else max(0.0, min(100.0, value))
    return f'<div class="rd-bar"><div class="rd-fill {kind}" style="width: {width:.1f}%"></div></div>'


def _org_numbers(scores: Scores | None, counted: int = 0) -> dict[str, Any]:
    """Overall, dimension and facet scores of the one organization in ``scores``.

    ``level`` is given only when the half rule gives one: at least half of the
    ``counted`` facets have a score (:func:`readiness.core.scoring.supported_level`).
    """
    if scores is None or not len(scores.overall):
        return {"overall": None, "level": None, "dimensions": {}, "facets": {}, "n": 0, "facets_scored": 0}
    org = scores.overall.index[0]
    dims = scores.dimensions[scores.dimensions["org_id"] == org]
    facets = scores.facets[scores.facets["org_id"] == org]
    overall = _number(scores.overall.loc[org, "score"])
    facet_scores = {f: _number(s) for f, s in zip(facets["facet"], facets["score"])}
    scored = sum(v is not None for v in facet_scores.values())
    return {
        "overall": overall,
        "level": supported_level(
            scores.overall.loc[org, "level"] if overall is not None else None, scored, counted or len(facet_scores)
        ),
        "dimensions": {d: _number(s) for d, s in zip(dims["dimension"], dims["score"])},
        "facets": facet_scores,
        "n": int(scores.overall.loc[org, "n_respondents"]),
        "facets_scored": scored,
        "facets_counted": counted,
    }


def render_results(
    instrument: Instrument,
    respondent_scores: Scores | None,
    session_scores: Scores | None,
    *,
    respondent: str | None = None,
    by_role: Mapping[str, int] | None = None,
    counted: tuple[int, int] = (0, 0),
) -> tuple[str, dict[str, Any]]:
    """The live results panel: its HTML, and the numbers it shows.

    Reads :class:`~readiness.core.scoring.Scores` only; computes no score. Numbers are shown
    with one decimal, ``–`` where the scoring rules give none. ``counted`` is how many
    facets count for the respondent and for the session: a score gets a level word only
    when at least half of them have a score; until then it says how many do.

    Returns
    -------
    (str, dict)
        The HTML, and ``{"respondent": {...}, "session": {...}}`` each with ``overall``,
        ``level``, ``dimensions``, ``facets`` (unrounded floats or None) and ``n``.
    """
    mine, ours = _org_numbers(respondent_scores, counted[0]), _org_numbers(session_scores, counted[1])
    roles = ", ".join(f"{n} {html.escape(str(r))}" for r, n in sorted((by_role or {}).items()))
    who = html.escape(respondent) if respondent else "no respondent"
    parts = [
        '<div class="readiness-results">',
        f'<div class="rd-card">This respondent ({who})<br><span class="rd-big readiness-overall-respondent">'
        f'{_fmt(mine["overall"])}</span> <span class="readiness-level-respondent">{_level_text(mine)}</span></div>',
        f'<div class="rd-card">Whole session ({ours["n"]} respondent{"s" if ours["n"] != 1 else ""}'
        f'{": " + roles if roles else ""})<br><span class="rd-big readiness-overall-session">'
        f'{_fmt(ours["overall"])}</span> <span class="readiness-level-session">{_level_text(ours)}</span></div>',
        '<div><span class="rd-key rd-resp"></span>this respondent<span class="rd-key rd-sess"></span>'
        "whole session</div>",
    ]
    for dim in instrument.dimensions:
        a, b = mine["dimensions"].get(dim.id), ours["dimensions"].get(dim.id)
        parts.append(
            f'<div class="rd-dim"><div class="rd-dim-name">{html.escape(dim.title or dim.id)} '
            f'<span class="readiness-dimension-respondent" data-dimension="{dim.id}">{_fmt(a)}</span> / '
            f'<span class="readiness-dimension-session" data-dimension="{dim.id}">{_fmt(b)}</span></div>'
            f"{_bar(a, 'rd-resp')}{_bar(b, 'rd-sess')}</div>"
        )
    parts.append("<table><tr><th>Facet</th><th>Respondent</th><th>Session</th></tr>")
    for dim in instrument.dimensions:
        for facet in dim.facets:
            parts.append(
                f"<tr><td>{html.escape(facet.title or facet.id)}</td>"
                f'<td class="readiness-facet-respondent" data-facet="{facet.id}">'
                f"{_fmt(mine['facets'].get(facet.id))}</td>"
                f'<td class="readiness-facet-session" data-facet="{facet.id}">{_fmt(ours["facets"].get(facet.id))}'
                "</td></tr>"
            )
    parts.append(
        "</table><p>Scores 0–100; a facet needs at least half of its questions answered, and the overall "
        "score names a level once at least half of the facets have a score. "
        "Same rules as <code>readiness score</code>.</p></div>"
    )
    return "".join(parts), {"respondent": mine, "session": ours}


def _level_text(numbers: Mapping[str, Any]) -> str:
    """The level word, or, for a score that has none yet, how many facets it rests on."""
    if numbers["level"]:
        return str(numbers["level"])
    if numbers["overall"] is None:
        return ""
    counted = numbers.get("facets_counted") or len(numbers["facets"])
    return (
        f'<span class="rd-partial">so far: {numbers["facets_scored"]} of {counted} '
        f"facets scored, too few for a level</span>"
    )


# ---------------------------------------------------------------------- serving
def voila_command(
    *,
    port: int,
    session: str,
    store: str | Path,
    org_id: str = "",
    instrument: str | Path | None = None,
    notebook: Path | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The Voila command line and environment that serve the intake notebook.

    Voila listens on 127.0.0.1 only, shows no code (``strip_sources``) and does not move
    to another port when the one given is taken (the address printed must be right).
    The session, store, organization and instrument reach the notebook through the
    :data:`ENVIRONMENT` variables, as absolute paths: Voila runs the kernel in the
    notebook's folder.
    """
    argv = [
        sys.executable,
        "-m",
        "voila",
        str(notebook or notebook_path("intake.ipynb")),
        "--no-browser",
        f"--port={int(port)}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--strip_sources=True",
        "--show_tracebacks=False",
        # Each page load starts a kernel, and Voila 0.5 fails to stop the old one on a
        # reload (its shutdown request lacks the XSRF token: voila issue #1458). Kernels
        # with no page attached are therefore stopped after 5 idle minutes; answers do
        # not depend on them, they are in the store already.
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_idle_timeout=300",
    ]
    if _ipc_fits():
        # Kernels talk to the server over local IPC sockets (as the report's do): no TCP
        # ports beyond the page's own, nothing readable on the network.
        argv.append("--KernelManager.transport=ipc")
    env = dict(os.environ)
    env[ENVIRONMENT["session"]] = session
    env[ENVIRONMENT["store"]] = str(Path(store).resolve())
    env[ENVIRONMENT["org_id"]] = org_id or ""
    env[ENVIRONMENT["instrument"]] = str(Path(instrument).resolve()) if instrument else ""
    return argv, env


def _ipc_fits() -> bool:
    """Whether kernel IPC sockets fit here: Voila puts them in a folder under the temp
    folder, ``<tmp>/voila_xxxxxxxx/kernel-<uuid>-ipc-N``, and a socket path may not exceed
    104 bytes (macOS; 108 on Linux). A long temp folder falls back to TCP on 127.0.0.1."""
    return os.name == "posix" and len(tempfile.gettempdir()) + len("/voila_xxxxxxxx/kernel--ipc-N") + 36 <= 100
