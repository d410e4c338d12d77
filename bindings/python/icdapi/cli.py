"""The ``icdapi`` command: ICD-11 from the shell, and CSV files coded in batches.

    icdapi search QUERY [--limit N]        one hit a line: code<TAB>title
    icdapi code CODE                       code<TAB>title<TAB>entity URI
    icdapi autocode TEXT                   code<TAB>title<TAB>matching text
    icdapi code-csv IN.csv --column NAME [--output OUT.csv]

Options everywhere: --language, --release, --local URL, --cache-dir DIR, --json. Credentials and
URLs come from the environment, as for the C library (ICD_CLIENT_ID, ICD_CLIENT_SECRET,
ICD_API_BASE, ICD_TOKEN_ENDPOINT). Exit status 0; 1 for an error (its message on stderr); 2 for
bad usage.
"""

import argparse
import csv
import json
import os
import sys
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, TextIO, Tuple

from . import __version__
from ._client import JSON, Client
from ._errors import IcdError
from .coding import CSV_COLUMNS, Coder, coded_row

__all__ = ["main"]

PROG = "icdapi"
#: Rows read, coded and written at a time by code-csv (duplicates across chunks are asked once).
CSV_CHUNK = 2000


class UsageError(Exception):
    """Bad usage found after parsing (a column the file lacks): exit status 2."""


class Failure(Exception):
    """An error of the command's own (a file it cannot read or write): exit status 1."""


def _line(*fields: str) -> str:
    # One record a line, fields split by tabs: none of them may hold either.
    return "\t".join(" ".join(str(field).split()) for field in fields)


def _print_json(answer: Any, out: TextIO) -> None:
    out.write(json.dumps(answer, ensure_ascii=False, indent=2) + "\n")


def _client(args: argparse.Namespace) -> Client:
    options: Dict[str, Optional[str]] = {"language": args.language, "release": args.release,
                                         "cache_dir": args.cache_dir}
    if args.local is not None:
        return Client.local(args.local, **options)
    return Client(**options)


# -- subcommands -------------------------------------------------------------------------------


def cmd_search(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    answer = connect().search(args.query, highlightingEnabled=False, flatResults=True)
    hits = answer.get("destinationEntities") or []
    if args.limit is not None:
        hits = hits[:args.limit]
        answer["destinationEntities"] = hits
    if args.json:
        _print_json(answer, out)
        return 0
    for hit in hits:
        out.write(_line(hit.get("theCode") or "", hit.get("title") or "") + "\n")
    if not hits:
        sys.stderr.write("%s: no hit for %r\n" % (PROG, args.query))
    return 0


def _title(entity: JSON) -> str:
    title = entity.get("title")
    return title.get("@value", "") if isinstance(title, dict) else str(title or "")


def cmd_code(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    entity = connect().entity_by_code(args.code)
    if args.json:
        _print_json(entity, out)
    else:
        out.write(_line(entity.get("code") or args.code, _title(entity), entity.get("@id", "")) + "\n")
    return 0


def cmd_autocode(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    client = connect()
    answer = client.autocode(args.text)
    if args.json:
        _print_json(answer, out)
        return 0
    uri = answer.get("linearizationURI")
    if not uri:
        sys.stderr.write("%s: no ICD-11 code matches %r\n" % (PROG, args.text))
        return 0
    entity = client.get(uri)
    out.write(_line(answer.get("theCode") or "", _title(entity), answer.get("matchingText") or "") + "\n")
    return 0


class Progress:
    """A one-line progress bar redrawn on stderr, only when stderr is a terminal (the standard
    library suffices for one line; a pipe or a log file gets nothing)."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.enabled = stream.isatty() and total > 0

    def show(self, done: int) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // self.total
        self.stream.write("\r%s: [%s%s] %d/%d rows" % (PROG, "#" * filled, "." * (self.WIDTH - filled), done, self.total))
        self.stream.flush()

    def within(self, base: int, rows: int) -> Callable[[int, int], None]:
        """A Coder's progress callback for a chunk of `rows` rows that follows `base` rows."""

        def show(done: int, todo: int) -> None:
            self.show(base + rows * done // todo)

        return show

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _read_header(reader: Iterator[List[str]], path: str, column: str) -> Tuple[List[str], int]:
    header = next(reader, None)
    if header is None:
        raise Failure("%s is empty: code-csv needs a header row naming the columns" % path)
    if column not in header:
        raise UsageError("%s has no column %r (its columns: %s)" % (path, column, ", ".join(header)))
    return header, header.index(column)


def cmd_code_csv(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    try:
        source = open(args.input, newline="", encoding="utf-8-sig")
    except OSError as err:
        raise Failure("cannot read %s: %s" % (args.input, err.strerror)) from None
    with source:
        total = 0
        if sys.stderr.isatty():
            total = max(sum(1 for _ in csv.reader(source)) - 1, 0)
            source.seek(0)
        reader = csv.reader(source)
        header, index = _read_header(reader, args.input, args.column)
        progress = Progress(total, sys.stderr)
        coder = Coder(connect())
        failed = rows_done = 0
        with _Output(args.output, out) as sink:
            write_header, write_row = _writers(sink, header, args.json)
            write_header()
            while True:
                chunk = [row for _, row in zip(range(CSV_CHUNK), reader)]
                if not chunk:
                    break
                texts = [row[index] if index < len(row) else "" for row in chunk]
                coder.progress = progress.within(rows_done, len(chunk))
                for row, coded in zip(chunk, coder.code(texts)):
                    write_row(coded_row(row, len(header), coded))
                    failed += bool(coded.error)
                rows_done += len(chunk)
                progress.show(rows_done)
        progress.finish()
    if failed:
        sys.stderr.write("%s: %d of %d rows failed (their icd_error says why); every row was written\n"
                         % (PROG, failed, rows_done))
        return 1
    return 0


def _writers(sink: TextIO, header: List[str], as_json: bool) -> Tuple[Callable[[], Any], Callable[[List[str]], Any]]:
    columns = list(header) + list(CSV_COLUMNS)
    if as_json:
        return (lambda: None), (lambda row: sink.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False) + "\n"))
    writer = csv.writer(sink)
    return (lambda: writer.writerow(columns)), writer.writerow


class _Output:
    """stdout, or OUT written as OUT.partial and renamed into place once complete."""

    def __init__(self, path: Optional[str], stdout: TextIO) -> None:
        self.path, self.stdout = path, stdout
        self.file: Optional[TextIO] = None

    def __enter__(self) -> TextIO:
        if self.path is None:
            return self.stdout
        try:
            self.file = open(self.path + ".partial", "w", newline="", encoding="utf-8")
        except OSError as err:
            raise Failure("cannot write %s: %s" % (self.path, err.strerror)) from None
        return self.file

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if self.file is None or self.path is None:
            return
        self.file.close()
        if exc_type is None:
            os.replace(self.path + ".partial", self.path)
        else:
            os.unlink(self.path + ".partial")


# -- the command line ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option given before the subcommand is not overwritten by the default after it.
    common.add_argument("--language", default=argparse.SUPPRESS, help="answers in this language (en, fr, es, ar, zh, ru, ...)")
    common.add_argument("--release", default=argparse.SUPPRESS, help="ICD-11 release, e.g. 2024-01 (default: the library's, 2026-01)")
    common.add_argument("--local", metavar="URL", default=argparse.SUPPRESS,
                        help="use WHO's local deployment at URL (no credentials), e.g. http://localhost:8080")
    common.add_argument("--cache-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="keep answers about fixed releases in DIR across runs")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON instead of lines")

    parser = argparse.ArgumentParser(
        prog=PROG, parents=[common],
        description="The WHO ICD API from the command line. Credentials come from ICD_CLIENT_ID and "
                    "ICD_CLIENT_SECRET (ICD_API_BASE and ICD_TOKEN_ENDPOINT redirect it), or use --local.",
        epilog="Exit status: 0 done, 1 an error (message on stderr), 2 bad usage.")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    search = commands.add_parser("search", parents=[common], help="search ICD-11: code<TAB>title per hit")
    search.add_argument("query")
    search.add_argument("--limit", type=_positive, metavar="N", help="print at most N hits")
    search.set_defaults(run=cmd_search)

    code = commands.add_parser("code", parents=[common], help="a code's entity: code<TAB>title<TAB>entity URI")
    code.add_argument("code")
    code.set_defaults(run=cmd_code)

    autocode = commands.add_parser("autocode", parents=[common], help="code a text: code<TAB>title<TAB>matching text")
    autocode.add_argument("text")
    autocode.set_defaults(run=cmd_autocode)

    code_csv = commands.add_parser(
        "code-csv", parents=[common], help="autocode a column of a CSV file",
        description="Autocodes the column NAME of every row of IN.csv (UTF-8) in batches, each distinct text "
                    "asked once, and writes the rows with icd_code, icd_title, icd_uri, icd_match_score and "
                    "icd_error appended (--json: one JSON object a row). A row that fails keeps its place "
                    "with icd_error filled; the exit status is then 1.")
    code_csv.add_argument("input", metavar="IN.csv")
    code_csv.add_argument("--column", metavar="NAME", required=True, help="the column holding the texts to code")
    code_csv.add_argument("--output", metavar="OUT.csv", help="write here instead of to standard output")
    code_csv.set_defaults(run=cmd_code_csv)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number of 1 or more, not %r" % text)
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 on bad usage, with the usage line
    for name in ("language", "release", "local", "cache_dir"):
        setattr(args, name, getattr(args, name, None))
    args.json = getattr(args, "json", False)
    clients: List[Client] = []

    def connect() -> Client:
        # Created when the command needs it, after its own checks of the usage and the files.
        clients.append(_client(args))
        return clients[-1]

    try:
        try:
            return int(args.run(connect, args, sys.stdout))
        finally:
            for client in clients:
                client.close()
    except UsageError as err:
        parser.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (PROG, err))
        return 2
    except (IcdError, Failure) as err:
        sys.stderr.write("%s: %s\n" % (PROG, err))
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % PROG)
        return 130
    except BrokenPipeError:
        # The reader went away (| head): nothing more to say, and nothing to say it to.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as err:  # never a traceback: say what happened and how to report it
        sys.stderr.write("%s: unexpected %s: %s (please report it with the command you ran)\n"
                         % (PROG, type(err).__name__, err))
        return 1
