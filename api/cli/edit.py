"""``sensegraph edit …``: the curator's edits from the shell (the same operations as the web editor).

Each edit is one store transaction, recomputes the prototypes it affects and is recorded in the audit
trail (``sensegraph edit audit``), from which ``sensegraph edit undo AUDIT_ID`` reverts it. Every
command takes its arguments in one order: the sense(s) first, then the medium (or media).
"""
from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from sensegraph.errors import NotFound

from ._common import JsonOption, StoreOption, console, handle_errors, open_graph, print_json

edit_app = typer.Typer(help="Curate senses: attach, detach, move, split, merge, relabel, pin, undo, audit. "
                       "Arguments come in one order: sense(s) first, then media.",
                       no_args_is_help=True)
app.add_typer(edit_app, name="edit")

UserOption = typer.Option("cli", "--user", help="who the audit trail names")


ORDER_HINT = "edit commands take the sense(s) first, then the medium: e.g. `sensegraph edit detach SENSE_ID MEDIA_ID`"


def _run(store: str | None, as_json: bool, action, *, order_hint: bool = False) -> None:
    with open_graph(store) as sg:
        try:
            entry = action(sg)
        except NotFound as exc:
            if order_hint:
                raise NotFound(f"{exc} ({ORDER_HINT})") from None
            raise
    if as_json:
        print_json({"audit_id": entry.audit_id, "action": entry.action, "sense_ids": list(entry.sense_ids), "at": entry.at})
    else:
        console.print(f"{entry.action}: {', '.join(entry.sense_ids)} (audit {entry.audit_id}; undo with "
                      f"`sensegraph edit undo {entry.audit_id}`)", highlight=False)


@edit_app.command("attach")
@handle_errors
def attach(sense_id: str, media_id: str, user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Pin a medium to a sense (editor evidence: always counts): SENSE_ID MEDIA_ID."""
    _run(store, as_json, lambda sg: sg.attach(media_id, sense_id, user=user), order_hint=True)


@edit_app.command("detach")
@handle_errors
def detach(sense_id: str, media_id: str, user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Detach a medium from a sense (never counts again, even after a re-ingest): SENSE_ID MEDIA_ID."""
    _run(store, as_json, lambda sg: sg.detach(media_id, sense_id, user=user), order_hint=True)


@edit_app.command("move")
@handle_errors
def move(from_sense: str, to_sense: str, media_ids: list[str] = typer.Argument(..., help="media to move"),
         user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Move evidence media from one sense to another: FROM_SENSE TO_SENSE MEDIA_ID…"""
    _run(store, as_json, lambda sg: sg.move_evidence(media_ids, from_sense, to_sense, user=user), order_hint=True)


@edit_app.command("split")
@handle_errors
def split(sense_id: str, new_id: str, label: str = typer.Option(..., help="label of the new sense"),
          gloss: str = typer.Option("", help="gloss of the new sense"),
          media: list[str] = typer.Option(None, "--media", help="media that go to the new sense (repeatable)"),
          cluster: int = typer.Option(None, help="or: the index of one of the sense's clusters"),
          user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Split selected media (or one cluster) of a sense into a new sense."""
    _run(store, as_json, lambda sg: sg.split_sense(sense_id, new_id, label, gloss, media_ids=media or None,
                                                   cluster=cluster, user=user))


@edit_app.command("merge")
@handle_errors
def merge(keep: str, drop: str, user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Merge DROP into KEEP (aliases, evidence, relations carried over; DROP redirects to KEEP)."""
    _run(store, as_json, lambda sg: sg.merge_senses(keep, drop, user=user))


@edit_app.command("relabel")
@handle_errors
def relabel(sense_id: str, label: str = typer.Option(None), gloss: str = typer.Option(None),
            alias: list[str] = typer.Option(None, "--alias", help="an alias to add (repeatable)"),
            user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Edit a sense's label and gloss, add aliases (the linker sees them at once)."""
    _run(store, as_json, lambda sg: sg.edit_sense(sense_id, label=label, gloss=gloss, add_aliases=alias or (), user=user))


@edit_app.command("pin")
@handle_errors
def pin(sense_id: str, media_id: str, mention: str, user: str = UserOption, store: str = StoreOption,
        as_json: bool = JsonOption) -> None:
    """Pin the sense of a mention in a medium's caption (overrides the linker for that medium): SENSE_ID MEDIA_ID MENTION."""
    _run(store, as_json, lambda sg: sg.pin_mention(media_id, mention, sense_id, user=user), order_hint=True)


@edit_app.command("undo")
@handle_errors
def undo(audit_id: str, user: str = UserOption, store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """Revert an edit from the audit trail."""
    _run(store, as_json, lambda sg: sg.undo(audit_id, user=user))


@edit_app.command("audit")
@handle_errors
def audit(sense_id: str = typer.Argument(None), limit: int = typer.Option(50, min=1),
          store: str = StoreOption, as_json: bool = JsonOption) -> None:
    """The audit trail (newest first), for one sense or all."""
    with open_graph(store) as sg:
        entries = sg.audit(sense_id, limit)
        ids = sorted({sid for e in entries for sid in e.sense_ids})
        labels = {k: v.label for k, v in sg.store.get_senses(ids).items()} if ids and not as_json else {}
    if as_json:
        print_json([{"audit_id": e.audit_id, "user": e.user, "at": e.at, "action": e.action,
                     "sense_ids": list(e.sense_ids), "undone": e.undone} for e in entries])
        return
    t = Table(title=f"audit trail{' of ' + sense_id if sense_id else ''}: {len(entries)} edit(s)")
    t.add_column("when (UTC)", no_wrap=True)
    t.add_column("who")
    t.add_column("action", no_wrap=True)
    t.add_column("senses")
    t.add_column("audit id", no_wrap=True, min_width=max((len(e.audit_id) for e in entries), default=8))  # whole: undo needs it
    t.add_column("undone", no_wrap=True)
    for e in entries:
        senses = ", ".join(f"{sid}\u00a0{labels[sid]}" if labels.get(sid) else sid for sid in e.sense_ids)
        t.add_row(_when(e.at), escape(e.user), e.action, escape(senses), e.audit_id, "yes" if e.undone else "")
    console.print(t)


def _when(at: str) -> str:
    """An ISO timestamp to the second, for the table (``--json`` keeps it whole)."""
    return at.replace("T", " ")[:19]
