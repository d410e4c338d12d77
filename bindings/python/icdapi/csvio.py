"""The one CSV reader and writer of every CSV command (``code-csv``, ``code-deaths``, ``map-csv``).

What it promises, whatever the command:

- **The file is checked before anything is sent**: a pass over IN.csv decodes it in the chosen
  encoding (``--encoding``, default UTF-8 with or without a BOM) and parses it strictly; a byte
  that is not in the encoding, an unterminated quote, or a row whose field count differs from
  the header's is an error naming the line (and, for the encoding, the option). Blank lines are
  skipped.
- **Rows are written as they are done, in input order**, chunk by chunk, and flushed: a run that
  stops (the server gone, Ctrl-C) keeps every finished row, and its message says how many were
  written and how to go on: the same command with ``--skip N``, which leaves out the first N
  rows and appends to OUT.csv (its header is written only into a new or empty file).
- **Every row says how it went**, in the status column ``icd_status``: ``matched``,
  ``no match``, ``blank`` (nothing to ask) or ``failed`` (``icd_error`` says why); a summary of
  the counts goes to stderr at the end.
- Rows that fail because the API could not be reached at the end of a chunk are asked again once
  with the next chunk; when a whole chunk cannot reach the API, the run stops (as above) rather
  than fill every remaining row with the same error.

A command gives the columns it appends and a function that codes a chunk of rows::

    job = CsvJob(path, encoding="utf-8", output=None, skip=0)       # checks IN.csv
    summary = job.run(["my_col", "icd_error"], code_chunk, chunk_size=500)  # + icd_status

``code_chunk(rows)`` takes a list of :class:`Row` and returns one :class:`Outcome` per row; it
raises :class:`icdapi.IcdError` for a failure that stops the run.
"""

import codecs
import csv
import json
import os
import sys
from typing import BinaryIO, Callable, Iterator, List, NamedTuple, Optional, Sequence, TextIO

from ._errors import IcdError, Status

__all__ = ["BLANK", "CsvError", "CsvJob", "FAILED", "MATCHED", "NO_MATCH", "Outcome", "Row", "STATUS_COLUMN",
           "STATUSES", "Summary", "UsageProblem"]

#: The status column every CSV command appends last, and its values.
STATUS_COLUMN = "icd_status"
MATCHED, NO_MATCH, BLANK, FAILED = "matched", "no match", "blank", "failed"
STATUSES = (MATCHED, NO_MATCH, BLANK, FAILED)

#: Failures that say the API could not be reached (rather than that it refused the row).
UNREACHABLE = (Status.NETWORK, Status.TIMEOUT)


class CsvError(Exception):
    """The input cannot be read as asked (a file, an encoding, a malformed row): exit status 1."""


class UsageProblem(Exception):
    """Bad usage found in the input (an unknown encoding, a missing column): exit status 2."""


class Row(NamedTuple):
    """One data row: the line it starts on (1 = the header's) and its fields."""

    line: int
    cells: List[str]


class Outcome(NamedTuple):
    """A row's result: the command's columns (the status column excluded), its status, and
    whether it failed because the API could not be reached (then it is asked again once)."""

    cells: Sequence[str]
    status: str
    unreachable: bool = False
    #: Further output rows for the same input row (map-csv --all: one per further target), each
    #: written as the input cells, these cells and the status.
    more: Sequence[Sequence[str]] = ()


class Summary(NamedTuple):
    rows: int
    matched: int
    no_match: int
    blank: int
    failed: int

    def line(self) -> str:
        return "%d rows: %d matched, %d no match, %d blank, %d failed" % self


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageProblem("unknown encoding %r: give one Python knows, e.g. --encoding utf-8, latin-1, "
                           "cp1252 or utf-16" % encoding) from None
    return "utf-8-sig" if name == "utf-8" else name  # a BOM, as Excel writes, is accepted


class CsvJob:
    """IN.csv checked whole (see the module's docstring), then read and written chunk by chunk."""

    def __init__(self, path: str, encoding: str = "utf-8", output: Optional[str] = None, skip: int = 0,
                 as_json: bool = False, stdout: TextIO = sys.stdout, prog: str = "icdapi") -> None:
        self.path, self.encoding, self.codec = path, encoding, _codec(encoding)
        self.output, self.skip, self.as_json, self.stdout, self.prog = output, skip, as_json, stdout, prog
        self.header: List[str] = []
        self.total = 0
        for _ in self._rows():  # the checking pass: nothing is kept, nothing is sent
            self.total += 1
        if skip > self.total:
            raise UsageProblem("--skip %d, but %s holds %d rows" % (skip, path, self.total))

    # -- reading ---------------------------------------------------------------------------------

    def _lines(self, source: BinaryIO) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.codec)()
        number = 0
        for raw in source:
            number += 1
            try:
                yield decoder.decode(raw)
            except UnicodeDecodeError as err:
                raise CsvError(
                    "%s, line %d: not valid %s text (byte 0x%02x at byte %d of the line): give the file's "
                    "encoding with --encoding, e.g. --encoding latin-1 (or cp1252) for a spreadsheet export "
                    "with accents" % (self.path, number, self.encoding, err.object[err.start], err.start + 1)) from None
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise CsvError("%s, line %d: the file ends inside a %s character: give the file's encoding with "
                           "--encoding" % (self.path, number, self.encoding)) from None
        if tail:
            yield tail

    def _rows(self) -> Iterator[Row]:
        """The header into self.header, then every data row, checked."""
        try:
            source = open(self.path, "rb")
        except OSError as err:
            raise CsvError("cannot read %s: %s" % (self.path, err.strerror)) from None
        with source:
            reader = csv.reader(self._lines(source), strict=True)
            start = 1
            header_seen = False
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    why = ("a quoted field starting here is never closed (an unterminated quote)"
                           if "unexpected end of data" in str(err) else str(err))
                    raise CsvError("%s, line %d: %s; fix the file and run again" % (self.path, start, why)) from None
                line, start = start, reader.line_num + 1
                if not cells:
                    continue  # a blank line
                if not header_seen:
                    self.header, header_seen = cells, True
                    continue
                if len(cells) != len(self.header):
                    spans = (" (the row runs on to line %d: a quote left open on line %d swallows the lines "
                             "after it)" % (start - 1, line)) if start - 1 > line else ""
                    raise CsvError("%s, line %d: %d field%s where the header has %d%s; fix the row and run again"
                                   % (self.path, line, len(cells), "" if len(cells) == 1 else "s", len(self.header),
                                      spans))
                yield Row(line, cells)
            if not header_seen:
                raise CsvError("%s is empty: the first row must be a header naming the columns" % self.path)

    # -- writing ---------------------------------------------------------------------------------

    def _open_output(self) -> "tuple[TextIO, bool]":
        """The sink, and whether it needs the header."""
        if self.output is None:
            return self.stdout, True
        try:
            if self.skip:
                sink = open(self.output, "a", newline="", encoding="utf-8")
                return sink, sink.tell() == 0
            return open(self.output, "w", newline="", encoding="utf-8"), True
        except OSError as err:
            raise CsvError("cannot write %s: %s" % (self.output, err.strerror)) from None

    def run(self, columns: Sequence[str], code_chunk: Callable[[List[Row]], List[Outcome]], chunk_size: int,
            progress: Optional[Callable[[int], None]] = None) -> Summary:
        """Codes every row (after the first `skip`) in chunks and writes each chunk when done.
        On a failure that stops the run, raises CsvError saying what was written and how to go on."""
        names = list(self.header) + list(columns) + [STATUS_COLUMN]
        counts = dict.fromkeys(STATUSES, 0)
        sink, needs_header = self._open_output()
        writer = csv.writer(sink)
        written = self.skip

        def write(row: Row, outcome: Outcome) -> None:
            for command_cells in [outcome.cells, *outcome.more]:
                cells = list(row.cells) + list(command_cells) + [outcome.status]
                if self.as_json:
                    sink.write(json.dumps(dict(zip(names, cells)), ensure_ascii=False) + "\n")
                else:
                    writer.writerow(cells)
            counts[outcome.status] += 1

        try:
            if needs_header and not self.as_json:
                writer.writerow(names)
            rows = self._rows()
            for _ in range(self.skip):
                next(rows)
            retried: List[Row] = []  # rows that could not reach the API, asked once more
            while True:
                fresh = [row for _, row in zip(range(chunk_size), rows)]
                chunk = retried + fresh
                if not chunk:
                    break
                outcomes = code_chunk(chunk)
                # Trailing rows that could not reach the API wait for the next chunk (once), so
                # that a run that stops here leaves exactly the rows before them written.
                keep = len(chunk)
                if fresh:
                    while keep > len(retried) and outcomes[keep - 1].unreachable:
                        keep -= 1
                for row, outcome in zip(chunk[:keep], outcomes[:keep]):
                    write(row, outcome)
                written += keep
                retried = chunk[keep:]
                sink.flush()
                if progress:
                    progress(written - self.skip)
        except (IcdError, KeyboardInterrupt) as err:
            sink.flush()
            if written == self.skip:  # nothing done: no file left behind, no resuming to explain
                if sink is not self.stdout and needs_header:
                    sink.close()
                    os.unlink(self.output)  # type: ignore[arg-type]
                raise
            where = self.output or "standard output"
            again = ("the same command with --skip %d (rows are appended to %s)" % (written, self.output)
                     if self.output else "the same command with --skip %d, appending its output (>>)" % written)
            what = "interrupted" if isinstance(err, KeyboardInterrupt) else str(err)
            raise CsvError("stopped: %s\n%s: %d of %d rows are written to %s; to go on, run %s"
                           % (what, self.prog, written, self.total, where, again)) from None
        finally:
            if sink is not self.stdout:
                sink.close()
        return Summary(written - self.skip, counts[MATCHED], counts[NO_MATCH], counts[BLANK], counts[FAILED])

