"""``mapsync deadletters list|retry|discard``: the records Salesforce refused, for a person.

Each letter shows the record, the operation, Salesforce's error code and message and how
many attempts were made. ``retry`` re-plans and pushes the letters' Opportunities now (after
the cause was fixed in Salesforce); ``discard`` gives up on one, with a reason kept on file.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from sync.cli.app import app, fail, run_guarded
from sync.cli.runtime import open_runtime
from sync.jobs import deadletters
from sync.store.errors import DeadLetterStateError
from sync.store.records import ACTIVE_DEAD_LETTER_STATUSES, DeadLetter, DeadLetterStatus

deadletters_app = typer.Typer(help="Records Salesforce refused.", no_args_is_help=True)
app.add_typer(deadletters_app, name="deadletters")


@deadletters_app.command("list")
def list_letters(
    status: str | None = typer.Option(None, "--status",
                                      help="open, parked, resolved or discarded "
                                           "(default: open and parked)."),
) -> None:
    """List dead letters with Salesforce's error."""

    def body() -> None:
        wanted = _statuses(status)
        with open_runtime() as rt, rt.store.transaction(write=False) as tx:
            letters = [x for s in wanted for x in tx.dead_letters(rt.org.id, status=s)]
        letters.sort(key=lambda x: x.id)
        if not letters:
            print("no dead letters")
            return
        Console(width=200).print(_table(letters))

    run_guarded(body)


@deadletters_app.command("retry")
def retry(
    ids: list[int] = typer.Argument(None, help="Letter ids (see `deadletters list`)."),
    all_: bool = typer.Option(False, "--all", help="Retry every open and parked letter."),
) -> None:
    """Re-plan and push the letters' Opportunities now; a landed record resolves its letter."""

    def body() -> None:
        if not ids and not all_:
            raise fail("name letter ids or give --all", code=2)
        with open_runtime() as rt:
            org = rt.org.id
            with rt.store.transaction(write=False) as tx:
                if all_:
                    letters = [x for s in ACTIVE_DEAD_LETTER_STATUSES
                               for x in tx.dead_letters(org, status=s)]
                else:
                    letters = []
                    for letter_id in ids:
                        letter = tx.dead_letter(letter_id)
                        if letter is None or letter.org_id != org:
                            raise fail(f"no dead letter {letter_id}")
                        if letter.status not in ACTIVE_DEAD_LETTER_STATUSES:
                            raise fail(f"dead letter {letter_id} is {letter.status.value}; "
                                       "only open or parked letters can be retried")
                        letters.append(letter)
            report = deadletters.retry(rt.org, letters)
        print(f"retried {len(letters)} letter(s): {len(report.resolved)} resolved, "
              f"{len(report.failed_again)} failed again, {len(report.parked)} parked, "
              f"{len(report.discarded)} discarded; {report.run.api_calls} API calls")
        if report.failed_again or report.run.error:
            raise fail(report.run.error or "some records were refused again: see "
                       "`mapsync deadletters list`")

    run_guarded(body)


@deadletters_app.command("discard")
def discard(
    letter_id: int = typer.Argument(..., help="Letter id."),
    reason: str = typer.Option(..., "--reason", help="Why the write is given up (kept)."),
) -> None:
    """Give up on one letter, saying why."""

    def body() -> None:
        if not reason.strip():
            raise fail("--reason must say why", code=2)
        with open_runtime() as rt, rt.store.transaction() as tx:
            letter = tx.dead_letter(letter_id)
            if letter is None or letter.org_id != rt.org.id:
                raise fail(f"no dead letter {letter_id}")
            try:
                tx.discard_dead_letter(letter_id, reason)
            except DeadLetterStateError as err:
                raise fail(str(err)) from None
        print(f"dead letter {letter_id} discarded")

    run_guarded(body)


def _statuses(text: str | None) -> tuple[DeadLetterStatus, ...]:
    if text is None:
        return ACTIVE_DEAD_LETTER_STATUSES
    try:
        return (DeadLetterStatus(text),)
    except ValueError:
        raise fail(f"--status must be one of {', '.join(s.value for s in DeadLetterStatus)}",
                   code=2) from None


def _table(letters: list[DeadLetter]) -> Table:
    table = Table(title="dead letters")
    for column in ("id", "status", "object", "record", "operation", "error", "message",
                   "attempts", "last seen"):
        table.add_column(column, overflow="fold")
    for x in letters:
        table.add_row(str(x.id), x.status.value, x.object_name, x.external_id, x.operation,
                      x.error_code or "-", x.error_message, str(x.attempts),
                      x.last_seen.isoformat()[:19])
    return table
