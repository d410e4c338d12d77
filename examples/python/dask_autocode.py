"""Codes a column of a CSV file on a Dask cluster: the job of ``icdapi code-csv``, spread over many
processes or machines, with the same output.

Each worker process keeps one ``icdapi.Client`` (a worker plugin creates it when the worker
starts and closes it when it stops), shared by the worker's threads. The workers share one token
through ``token_cache_file`` — one token fetch for the whole cluster, however many workers — and
keep answers in ``cache_dir``, so that a second run (or another worker meeting a text already
coded) is answered from disk. Both must be paths every worker can reach.

    pip install icdapi "dask[distributed]"
    export ICD_CLIENT_ID=... ICD_CLIENT_SECRET=...        # every worker reads them from its environment
    python dask_autocode.py deaths.csv --column cause --output coded.csv \\
        --token-cache-file ~/.cache/icdapi/token.json --cache-dir ~/.cache/icdapi/answers

Without --scheduler it starts a LocalCluster of --workers processes on this machine; with
--scheduler tcp://HOST:8786 it uses a running cluster. Exit status 0; 1 when rows failed (their
icd_error says why) or the job did; 2 for bad usage.
"""

import argparse
import csv
import os
import sys
from typing import Any, Dict, List, Optional, cast

import dask.bag
from distributed import Client as DaskClient
from distributed import LocalCluster, WorkerPlugin, get_worker

import icdapi
from icdapi.coding import CSV_COLUMNS, Coder, coded_row
from icdapi.csvio import FAILED

PLUGIN = "icdapi"


class IcdClientPlugin(WorkerPlugin):
    """One icdapi.Client (and its Coder, which remembers the texts it coded) per worker process."""

    name = PLUGIN

    def __init__(self, local_url: Optional[str], options: Dict[str, Optional[str]]) -> None:
        self.local_url = local_url
        self.options = options
        self.client: Optional[icdapi.Client] = None
        self.coder: Optional[Coder] = None

    def setup(self, worker: Any) -> None:
        if self.local_url:
            self.client = icdapi.Client.local(self.local_url, **self.options)
        else:
            self.client = icdapi.Client(**self.options)  # credentials from the worker's environment
        self.coder = Coder(self.client)

    def teardown(self, worker: Any) -> None:
        if self.client is not None:
            self.client.close()


def code_partition(rows: List[List[str]], column: int, width: int) -> List[List[str]]:
    """Runs on a worker: the rows of one partition with the code-csv columns appended."""
    coder = cast(IcdClientPlugin, get_worker().plugins[PLUGIN]).coder
    assert coder is not None, "the worker plugin sets it up before any task runs"
    texts = [row[column] if column < len(row) else "" for row in rows]
    return [coded_row(row, width, coded) for row, coded in zip(rows, coder.code(texts))]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Autocode a CSV column with icdapi on a Dask cluster.")
    parser.add_argument("input", metavar="IN.csv")
    parser.add_argument("--column", metavar="NAME", required=True)
    parser.add_argument("--output", metavar="OUT.csv", required=True)
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a running cluster (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    parser.add_argument("--partition-rows", type=int, default=500, help="rows per task (default 500)")
    parser.add_argument("--token-cache-file", metavar="FILE", help="where the workers share the token")
    parser.add_argument("--cache-dir", metavar="DIR", help="where the workers keep answers across runs")
    parser.add_argument("--language")
    parser.add_argument("--release")
    parser.add_argument("--local", metavar="URL", help="WHO's local deployment (no credentials)")
    args = parser.parse_args(argv)

    with open(args.input, newline="", encoding="utf-8-sig") as source:
        reader = csv.reader(source)
        header = next(reader, None)
        if header is None or args.column not in header:
            parser.error("%s has no column %r" % (args.input, args.column))
        rows = list(reader)
    column = header.index(args.column)

    options = {"language": args.language, "release": args.release, "cache_dir": args.cache_dir}
    if not args.local:  # a local deployment has no token to share
        options["token_cache_file"] = args.token_cache_file
    for path in (args.cache_dir, args.token_cache_file and os.path.dirname(os.path.abspath(args.token_cache_file))):
        if path:
            os.makedirs(path, mode=0o700, exist_ok=True)

    if args.scheduler:
        cluster, dask_client = None, DaskClient(args.scheduler)
    else:
        # One thread a worker: each task's get_many already keeps `concurrency` (16) requests in
        # flight, and a worker's tasks then never ask for the same new text at the same moment.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        dask_client = DaskClient(cluster)
    try:
        dask_client.register_plugin(IcdClientPlugin(args.local, options), name=PLUGIN)
        partitions = dask.bag.from_sequence(rows, partition_size=args.partition_rows)
        coded = partitions.map_partitions(code_partition, column, len(header)).compute()
    finally:
        dask_client.close()
        if cluster is not None:
            cluster.close()

    with open(args.output, "w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(header + list(CSV_COLUMNS))
        writer.writerows(coded)
    failed = sum(1 for row in coded if row[-1] == FAILED)  # the status column, icd_status, comes last
    print("dask_autocode: %d rows coded into %s, %d failed" % (len(coded), args.output, failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except icdapi.IcdError as error:
        sys.exit("dask_autocode: %s" % error)
