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
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def excluded_count():
    """Entries of exclude_re in .cargo/mutants.toml (one quoted pattern a line)."""
    text = open(os.path.join(ROOT, ".cargo", "mutants.toml"), encoding="utf-8").read()
    block = re.search(r"exclude_re\s*=\s*\[(.*?)\n\]", text, re.S)
    return len(re.findall(r"^\s*['\"]", block.group(1), re.M)) if block else 0


def current_mutants():
    """The names of the mutants the source has now (`cargo mutants --list`, which leaves out the
    exclusions); an --iterate run's own mutants.json lacks those caught before."""
    listing = subprocess.run(["cargo", "mutants", "--list"], cwd=ROOT, capture_output=True, text=True, check=True)
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
    excluded = excluded_count()
    # previously_caught.txt names mutants by file, line and column: one whose code has moved or
    # changed since is no longer among the source's mutants (and an --iterate run tests it again
    # under its new name), so only names the source still has count.
    listed = current_mutants()
    tested = {outcome["scenario"]["Mutant"]["name"] for outcome in data["outcomes"]
              if isinstance(outcome["scenario"], dict) and "Mutant" in outcome["scenario"]}
    earlier = os.path.join(out_dir, "previously_caught.txt")
    names = open(earlier, encoding="utf-8").read().splitlines() if os.path.exists(earlier) else []
    previously = len((set(names) & listed) - tested)
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
