"""The ``icdapi`` command: ICD-11 from the shell, and CSV files coded in batches.

    icdapi search QUERY [--limit N]        one hit a line: code<TAB>title
    icdapi code CODE                       code<TAB>title<TAB>entity URI
    icdapi autocode TEXT                   code<TAB>title<TAB>matching text
    icdapi code-csv IN.csv --column NAME [--output OUT.csv]
    icdapi code-deaths IN.csv [--output OUT.csv] [--ignore-column NAME]
    icdapi map --from icd10|icd11 CODE      code<TAB>title<TAB>table, a line per mapped row
    icdapi map-csv IN.csv --column NAME --from icd10|icd11 [--output OUT.csv] [--all]

The map commands read WHO's mapping tables (--mapping-tables PATH or ICD_MAPPING_TABLES: WHO's
mapping.zip or its unpacked directory) and need no credentials and no network.

The CSV commands share --encoding, --skip N and the status column (see icdapi.csvio).

Options everywhere: --language, --release, --local URL, --cache-dir DIR, --json. Credentials and
URLs come from the environment, as for the C library (ICD_CLIENT_ID, ICD_CLIENT_SECRET,
ICD_API_BASE, ICD_TOKEN_ENDPOINT). Exit status 0; 1 for an error (its message on stderr); 2 for
bad usage.
"""

import argparse
import json
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

from . import __version__
from ._client import JSON, Client, check_certificate
from ._errors import IcdError
from .coding import CSV_COLUMNS, Coder
from .csvio import FAILED, CsvError, CsvJob, Outcome, Row, UsageProblem
from .deaths import DEATH_COLUMNS, DeathCoder
from .mapping import MAP_COLUMNS, WHERE_WHO_PUBLISHES, Mapper

__all__ = ["main"]

PROG = "icdapi"
#: Rows read, coded and written at a time by code-csv (duplicates across chunks are asked once): one
#: Coder batch, so that a run that stops loses no row it coded.
CSV_CHUNK = 200
#: Rows read, coded and written at a time by code-deaths: enough to keep every thread busy.
DEATHS_CHUNK = 500
#: Rows read, mapped and written at a time by map-csv (no network: only the writes' rhythm).
MAP_CHUNK = 5000


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

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _csv_job(args: argparse.Namespace, out: TextIO) -> CsvJob:
    """IN.csv checked whole before anything is sent (csvio)."""
    try:
        return CsvJob(args.input, encoding=args.encoding, output=args.output, skip=args.skip,
                      as_json=getattr(args, "json", False), stdout=out, prog=PROG)
    except CsvError as err:
        raise Failure(str(err)) from None
    except UsageProblem as err:
        raise UsageError(str(err)) from None


def _run_csv(job: CsvJob, columns: Sequence[str], code_chunk: Callable[[List[Row]], List[Outcome]],
             chunk_size: int) -> int:
    """Runs a CSV command's chunks, with the progress bar and the summary on stderr."""
    progress = Progress(job.total - job.skip, sys.stderr)
    try:
        summary = job.run(columns, code_chunk, chunk_size, progress.show)
    except CsvError as err:
        progress.finish()
        raise Failure(str(err)) from None
    progress.finish()
    sys.stderr.write("%s: %s\n" % (PROG, summary.line()))
    if summary.failed:
        sys.stderr.write("%s: %d of %d rows failed (their icd_error says why); every row was written\n"
                         % (PROG, summary.failed, summary.rows))
        return 1
    return 0


def cmd_code_csv(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    job = _csv_job(args, out)
    if args.column not in job.header:
        raise UsageError("%s has no column %r (its columns: %s)" % (args.input, args.column, ", ".join(job.header)))
    index = job.header.index(args.column)
    coder = Coder(connect())

    def code_chunk(rows: List[Row]) -> List[Outcome]:
        coded = coder.code([row.cells[index] for row in rows])
        return [Outcome(tuple(c)[:-1], c.status, c.status == FAILED and text.strip() in coder.unreachable)
                for c, text in zip(coded, (row.cells[index] for row in rows))]

    return _run_csv(job, CSV_COLUMNS[:-1], code_chunk, CSV_CHUNK)


def cmd_code_deaths(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    job = _csv_job(args, out)
    ignored = list(dict.fromkeys(args.ignore_column or []))
    missing = [name for name in ignored if name not in job.header]
    if missing:
        raise UsageError("--ignore-column %s: %s has no such column (its columns: %s)"
                         % (missing[0], args.input, ", ".join(job.header)))
    fields = [(i, name) for i, name in enumerate(job.header) if name not in ignored]
    try:  # the header as a certificate: unknown names, a name twice, no cause column at all
        check_certificate([(name, "x") for _, name in fields])
    except IcdError as err:
        raise UsageError("%s, line 1 (the header): %s. Columns are certificate fields; leave a column out with "
                         "--ignore-column NAME" % (args.input, str(err).replace("; nothing was sent", ""))) from None
    with DeathCoder(connect()) as coder:

        def code_chunk(rows: List[Row]) -> List[Outcome]:
            return coder.code([{name: row.cells[i] for i, name in fields} for row in rows])

        return _run_csv(job, DEATH_COLUMNS, code_chunk, DEATHS_CHUNK)


def _mapper(args: argparse.Namespace) -> Mapper:
    """A client that only reads WHO's mapping tables: no credentials, never sent anywhere (the map
    calls make no request); the tables checked before any row is read or written."""
    tables = args.mapping_tables or os.environ.get("ICD_MAPPING_TABLES") or ""
    if not tables:
        raise UsageError("no mapping tables: download WHO's mapping.zip of your release (%s) and give its path, "
                         "or the directory it was unpacked into, with --mapping-tables PATH or ICD_MAPPING_TABLES"
                         % WHERE_WHO_PUBLISHES)
    client = Client.local("http://localhost", mapping_tables=tables)
    mapper = Mapper(client, args.source)
    mapper.rows("-")  # reads the tables now: a missing file or column fails before anything is written
    return mapper


def cmd_map(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    mapper = _mapper(args)
    rows = mapper.rows(args.code)
    if args.json:
        _print_json(rows, out)
        return 0
    for row in rows:
        target = mapper.target_of(row)
        out.write(_line(target.code, target.title, target.table) + "\n")
    if not rows:
        sys.stderr.write("%s: the mapping tables hold no row for %s code %r\n" % (PROG, args.source.upper(), args.code))
    return 0


def cmd_map_csv(connect: Callable[[], Client], args: argparse.Namespace, out: TextIO) -> int:
    job = _csv_job(args, out)
    if args.column not in job.header:
        raise UsageError("%s has no column %r (its columns: %s)" % (args.input, args.column, ", ".join(job.header)))
    index = job.header.index(args.column)
    mapper = _mapper(args)

    def map_chunk(rows: List[Row]) -> List[Outcome]:
        return [mapper.outcome(row.cells[index], args.all) for row in rows]

    return _run_csv(job, MAP_COLUMNS, map_chunk, MAP_CHUNK)


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
        description="Autocodes the column NAME of every row of IN.csv in batches, each distinct text "
                    "asked once, and writes the rows with icd_code, icd_title, icd_uri, icd_match_score, "
                    "icd_error, icd_match_level, icd_match_type and icd_status appended (--json: one JSON object "
                    "a row). A row that fails keeps its place with icd_error filled; the exit status is then 1.")
    code_csv.add_argument("input", metavar="IN.csv")
    code_csv.add_argument("--column", metavar="NAME", required=True, help="the column holding the texts to code")
    _csv_options(code_csv)
    code_csv.set_defaults(run=cmd_code_csv)

    deaths = commands.add_parser(
        "code-deaths", parents=[common], help="the underlying cause of death of every certificate of a CSV file",
        description="Each row of IN.csv is a death certificate whose column names are the certificate fields of "
                    "WHO's API (sex, causeOfDeathCodeA..E, causeOfDeathUriA..E, causeOfDeathCodePart2, intervalA..E, "
                    "...); empty cells are left out. Asks DORIS for every distinct certificate once, in concurrent "
                    "batches, and writes the rows with ucod_code, ucod_uri, ucod_stem_code, ucod_reject, ucod_error, "
                    "ucod_warning, icd_error and icd_status appended. A column that is not a field stops the run "
                    "before anything is sent (the message names the closest field), unless --ignore-column names it.")
    deaths.add_argument("input", metavar="IN.csv")
    deaths.add_argument("--ignore-column", metavar="NAME", action="append",
                        help="a column that is not a certificate field, copied as it is (may be repeated)")
    _csv_options(deaths)
    deaths.set_defaults(run=cmd_code_deaths)

    tables = argparse.ArgumentParser(add_help=False)
    tables.add_argument("--from", dest="source", choices=["icd10", "icd11"], required=True,
                        help="the classification of the codes given: icd10 (mapped to ICD-11) or icd11 (to ICD-10)")
    tables.add_argument("--mapping-tables", metavar="PATH", default=None,
                        help="WHO's mapping.zip of a release, or the directory it was unpacked into (default: "
                             "$ICD_MAPPING_TABLES); from %s" % WHERE_WHO_PUBLISHES)
    map_one = commands.add_parser(
        "map", parents=[common, tables], help="map a code between ICD-10 and ICD-11: code<TAB>title<TAB>table",
        description="Looks CODE up in WHO's mapping tables (no network, no credentials) and prints a line per "
                    "mapped row: the target's code, title and table (one: WHO's MapToOneCategory table; multiple: "
                    "MapToMultipleCategories). --json prints the rows with every column of the tables.")
    map_one.add_argument("code")
    map_one.set_defaults(run=cmd_map)

    map_csv = commands.add_parser(
        "map-csv", parents=[common, tables], help="map a column of a CSV file between ICD-10 and ICD-11",
        description="Maps the codes in column NAME of every row of IN.csv through WHO's mapping tables (no "
                    "network) and writes the rows with map_code, map_title, map_table, map_count (how many "
                    "targets the tables give) and icd_status appended: the first target, or with --all every "
                    "target as a row of its own.")
    map_csv.add_argument("input", metavar="IN.csv")
    map_csv.add_argument("--column", metavar="NAME", required=True, help="the column holding the codes to map")
    map_csv.add_argument("--all", action="store_true", help="a row per target rather than the first only")
    _csv_options(map_csv)
    map_csv.set_defaults(run=cmd_map_csv)
    return parser


def _csv_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--output", metavar="OUT.csv",
                         help="write here (UTF-8) instead of to standard output; rows are written as they are done")
    command.add_argument("--encoding", default="utf-8",
                         help="the encoding of IN.csv (default utf-8, with or without a BOM; e.g. latin-1, cp1252)")
    command.add_argument("--skip", metavar="N", type=_count, default=0,
                         help="leave out the first N rows and append to OUT.csv: how a run that stopped goes on")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError("must be a whole number of 0 or more, not %r" % text)
    return value


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
