"""``sensegraph search`` (one query or a file of them) and ``sensegraph recommend``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json


def _pins(values: list[str] | None) -> dict[str, str] | None:
    """``--sense MENTION=SENSE_ID`` pairs → the ``senses`` override of ``SenseGraph.search``."""
    if not values:
        return None
    out = {}
    for v in values:
        mention, sep, sid = v.partition("=")
        if not sep or not mention.strip() or not sid.strip():
            raise typer.BadParameter(f"expected MENTION=SENSE_ID, got {v!r}")
        out[mention.strip()] = sid.strip()
    return out


def _threshold(value: str | None) -> float | str | None:
    """``--threshold``: a number, or ``auto`` (the no-match threshold calibrated for this store)."""
    if value is None or value.strip().lower() == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"--threshold takes a number or 'auto', got {value!r}") from None


def _table(result, labels: dict[str, str], *, one_line: bool) -> Table:
    """Ranked hits with each sense's label beside its id ("n03793489 mouse ×0.80"); ``one_line``: a row per
    hit (piped output), else one sense per line in the cell (a terminal, where long cells would wrap)."""
    sep = ", " if one_line else "\n"
    t = Table(title=escape(repr(result.query)))
    head = any(h.head is not None for h in result.hits)  # the match head re-ranked: its score beside sim1, sim2
    mods = any(h.modalities for h in result.hits)  # a store with modality blocks: each one's gate weight and score
    cols = ("rank", "medium", "match", *(("head",) if head else ()), "sim1", "sim2", *(("modalities",) if mods else ()), "senses")
    for col in cols:
        t.add_column(col, justify="right" if col in ("rank", "match", "head", "sim1", "sim2") else "left")
    for h in result.hits:
        senses = sep.join(f"{_named(s.sense_id, labels)} ×{s.weight:.2f}" for s in h.senses) or "-"
        parts = sep.join(f"{p.modality} {p.weight:.2f}·{p.score:.3f}" for p in h.modalities) or "-"
        t.add_row(str(h.rank), escape(f"{h.media_id} {h.caption or Path(h.uri).name}"[:60]), f"{h.match:.3f}",
                  *((f"{h.head:.3f}",) if head else ()), f"{h.sim1:.3f}", f"{h.sim2:.3f}", *((escape(parts),) if mods else ()),
                  escape(senses))
    return t


def _named(sense_id: str, labels: dict[str, str]) -> str:
    label = labels.get(sense_id)
    return f"{sense_id} {label}" if label else sense_id


def _labels(store, result) -> dict[str, str]:
    """Labels of every sense the table names (hits and linked mentions), read in one batch."""
    ids = {s.sense_id for h in result.hits for s in h.senses} | {m["sense_id"] for m in result.linked if m.get("sense_id")}
    return {sid: s.label for sid, s in store.get_senses(sorted(ids)).items()} if ids else {}


def _linked_caption(linked: list[dict], labels: dict[str, str]) -> str:
    parts = [f"{m['text']} → {_named(m['sense_id'], labels) if m['sense_id'] else 'NIL'} "
             f"({m['confidence']:.2f}{', pinned' if m.get('pinned') else ''})" for m in linked]
    return "linked: " + (", ".join(parts) if parts else "nothing")


@app.command("search")
@handle_errors
def search(
    text: str = typer.Argument(None, help="the query text (or use --queries FILE)"),
    k: int = typer.Option(10, "-k", min=1, help="how many results"),
    alpha: float = typer.Option(None, help="weight of the first similarity (default: configured)"),
    beta: float = typer.Option(None, help="weight of the second similarity; 0 = text-only"),
    threshold: str = typer.Option(None, help="threshold mode: keep results scoring ≥ this (the head's score when it re-ranks), or 'auto': the calibrated no-match threshold"),
    sense: list[str] = typer.Option(None, "--sense", help="pin MENTION=SENSE_ID (repeatable)"),
    modality: str = typer.Option(None, "--modality", help="only media of this modality: image, video or audio (default: all, mixed)"),
    queries: Path = typer.Option(None, "--queries", help="a file with one query per line; JSON Lines out"),
    store: str = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Rank media for a text by α·sim(text, medium) + β·Σ w_k·sim(prototype_k, medium)."""
    if (text is None) == (queries is None):
        raise typer.BadParameter("give a query text or --queries FILE (not both)")
    texts = [text] if queries is None else [ln.strip() for ln in queries.read_text(encoding="utf-8").splitlines() if ln.strip()]
    opts = {"alpha": alpha, "beta": beta, "threshold": _threshold(threshold), "senses": _pins(sense)}
    with open_graph(store) as sg:
        for t in texts:
            result = sg.search_result(t, k, modality=modality, **opts)
            if as_json or queries is not None:  # the same body as REST /search, metadata included
                print_json({**result.to_dict(), "metadata": result.metadata})
            else:
                _print(result, _labels(sg.store, result))


@app.command("recommend")
@handle_errors
def recommend(
    media_id: str = typer.Argument(...),
    k: int = typer.Option(10, "-k", min=1),
    store: str = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Media like a stored medium, scored by the same formula (its embedding and its senses)."""
    with open_graph(store) as sg:
        result = sg.engine.recommend(media_id, k)
        labels = {} if as_json else _labels(sg.store, result)
    if as_json:
        print_json(result.to_dict())
    else:
        _print(result, labels)


def _print(result, labels: dict[str, str]) -> None:
    console.print(_table(result, labels, one_line=not console.is_terminal))
    if "no_match" in result.metadata:
        console.print(escape(result.metadata["no_match"]["reason"]), highlight=False)
    if result.linked or not result.query.startswith("media:"):
        console.print(escape(_linked_caption(result.linked, labels)), highlight=False)
