#!/usr/bin/env python3
"""The mutation score of a `make mutants` run, honestly counted.

    python3 scripts/mutants_score.py [target/mutants.out]

Viable mutants are those that built. A mutant is caught when a test failed (or hung past the
per-mutant timeout) against it. The mutants that .cargo/mutants.toml excludes as unobservable are
not built at all, so they are counted here as missed: the score never gains from the list.
After `make mutants MUTANTS_ARGS=--iterate` (only what earlier runs did not catch is tested
again), the mutants caught by the earlier runs (previously_caught.txt) count as caught.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mutant_names(*args):
    """The names of the mutants the source has now, by `cargo mutants --list`."""
    listing = subprocess.run(["cargo", "mutants", "--list", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(listing.stdout.splitlines())


def main(out_dir):
    data = json.load(open(os.path.join(out_dir, "outcomes.json"), encoding="utf-8"))
    counts = {"CaughtMutant": 0, "MissedMutant": 0, "Timeout": 0, "Unviable": 0}
    missed = []
    for outcome in data["outcomes"]:
        summary = outcome["summary"]
        if summary in counts:
            counts[summary] += 1
        if summary == "MissedMutant":
            missed.append(outcome["scenario"]["Mutant"]["name"])
    # The list leaves out what exclude_re matches (a pattern may match several mutants).
    listed = mutant_names()
    excluded = len(mutant_names("--no-config") - listed)
    # previously_caught.txt names mutants by file, line and column: one whose code has moved or
    # changed since is no longer among the source's mutants (and an --iterate run tests it again
    # under its new name), so only names the source still has count.
    tested = {outcome["scenario"]["Mutant"]["name"] for outcome in data["outcomes"]
              if isinstance(outcome["scenario"], dict) and "Mutant" in outcome["scenario"]}
    earlier = os.path.join(out_dir, "previously_caught.txt")
    names = open(earlier, encoding="utf-8").read().splitlines() if os.path.exists(earlier) else []
    # It lists earlier runs' unviable mutants too: `make mutants` keeps them all in
    # target/mutants-unviable.txt.
    unviable_file = os.path.join(os.path.dirname(os.path.abspath(out_dir)), "mutants-unviable.txt")
    unviable = set(open(unviable_file, encoding="utf-8").read().splitlines()) if os.path.exists(unviable_file) else set()
    if names and not unviable:
        sys.exit("%s is missing: previously_caught.txt mixes unviable mutants with caught ones, and "
                 "the score cannot tell them apart (run with `make mutants`)" % unviable_file)
    previously = len((set(names) & listed) - tested - unviable)
    caught = counts["CaughtMutant"] + counts["Timeout"] + previously
    viable = caught + counts["MissedMutant"] + excluded
    print("mutants: %d caught (%d of them by a timeout), %d missed, %d excluded as unobservable "
          "(.cargo/mutants.toml, counted as missed), %d unviable (did not build)" % (
              caught, counts["Timeout"], counts["MissedMutant"], excluded, counts["Unviable"]))
    if missed:
        print("missed:")
        for name in missed:
            print("  " + name)
    score = 100.0 * caught / viable if viable else 0.0
    print("mutation score: %.1f %% of %d viable mutants caught (goal: >= 95 %%)" % (score, viable))
    return 0 if score >= 95.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "mutants.out")))
