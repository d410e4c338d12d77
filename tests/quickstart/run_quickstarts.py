#!/usr/bin/env python3
"""Runs the READMEs' quick starts exactly as written, from a directory of the user's own, against
the stand-in started the way the README's offline first hour says (scripts/standin.sh).

A README marks what a reader would type or save with an HTML comment just before a fenced block:

    <!-- quickstart:NAME file=app.c -->      the block is saved as app.c
    <!-- quickstart:NAME run expect=TEXT -->  the block is run by bash -e; the output must hold
                                              TEXT (expect= may be repeated; _ stands for a space)

A README may also show a shortened part of a quick start that another README holds whole:

    <!-- excerpt-of:NAME -->                 every line of the block must be a line of quick
                                              start NAME's blocks (spaces aside), so the excerpt
                                              cannot drift from what is run

Blocks of one NAME run together, in order, in one new empty directory, with the environment the
stand-in prints (ICD_CLIENT_ID, ICD_CLIENT_SECRET, ICD_API_BASE, ICD_TOKEN_ENDPOINT) and ICDAPI set
to the repository (the READMEs say "ICDAPI is where you cloned icdapi"). Nothing else of the
caller's environment that could point elsewhere is passed on.

    python3 tests/quickstart/run_quickstarts.py [NAME ...]     (default: every quick start)
"""

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READMES = ["README.md", "bindings/csharp/README.md", "bindings/php/README.md", "bindings/python/README.md"]
MARKER = re.compile(r"^<!--\s*quickstart:(\S+)\s+(file=(\S+)|run)((?:\s+expect=\S+)*)\s*-->\s*$")
EXCERPT = re.compile(r"^<!--\s*excerpt-of:(\S+)\s*-->\s*$")
RUN_TIMEOUT = 600  # seconds for one quick start, builds included


def quick_starts():
    """{name: [(readme, kind, file name or None, expectations, text)]} in README order."""
    found = {}
    for readme in READMES:
        path = os.path.join(ROOT, readme)
        if not os.path.exists(path):
            continue
        lines = open(path, encoding="utf-8").read().split("\n")
        i = 0
        while i < len(lines):
            match = MARKER.match(lines[i].strip())
            i += 1
            if not match:
                continue
            if i >= len(lines) or not lines[i].startswith("```"):
                sys.exit("%s:%d: a quickstart marker must stand right before a fenced block" % (readme, i))
            start = i + 1
            end = start
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            text = "\n".join(lines[start:end]) + "\n"
            expect = [e.replace("_", " ") for e in re.findall(r"expect=(\S+)", match.group(4) or "")]
            kind = "file" if match.group(3) else "run"
            found.setdefault(match.group(1), []).append((readme, kind, match.group(3), expect, text))
            i = end + 1
    return found


def fenced_blocks_after(marker):
    """[(readme, line number, marker match, text of the fenced block after it)] of every README."""
    found = []
    for readme in READMES:
        path = os.path.join(ROOT, readme)
        if not os.path.exists(path):
            continue
        lines = open(path, encoding="utf-8").read().split("\n")
        for i, line in enumerate(lines):
            match = marker.match(line.strip())
            if not match:
                continue
            if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
                sys.exit("%s:%d: a marker must stand right before a fenced block" % (readme, i + 1))
            end = i + 2
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            found.append((readme, i + 1, match, lines[i + 2:end]))
    return found


def check_excerpts(found):
    """The excerpts' problems: a line that is in no block of the quick start it names."""
    def normal(line):
        return " ".join(line.split())

    problems = []
    for readme, line_number, match, lines in fenced_blocks_after(EXCERPT):
        name = match.group(1)
        if name not in found:
            problems.append("%s:%d: an excerpt of %s, a quick start that does not exist" % (readme, line_number, name))
            continue
        whole = {normal(line) for block in found[name] for line in block[4].split("\n")}
        for line in lines:
            if line.strip() and normal(line) not in whole:
                problems.append("%s:%d: the excerpt of quick start %s holds a line the quick start lacks: %s"
                                % (readme, line_number, name, line.strip()))
    return problems


def start_standin():
    """scripts/standin.sh on a free port; returns (process, the environment it printed)."""
    proc = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "standin.sh"), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    exports = {}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line.startswith("export "):
            name, value = line[len("export "):].strip().split("=", 1)
            exports[name] = value
        elif exports and not line.strip():
            return proc, exports
    proc.kill()
    sys.exit("scripts/standin.sh printed no environment within 15 s")


def run(name, blocks, standin_env):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TERM", "CARGO_HOME", "RUSTUP_HOME")
           if key in os.environ}
    env.update(standin_env, ICDAPI=ROOT)
    with tempfile.TemporaryDirectory(prefix="quickstart-%s-" % name) as home:
        # Composer keeps its configuration and cache in the quick start's directory, not in
        # $HOME (no test writes outside a temporary directory); as root (CI) it runs unasked.
        env.update(COMPOSER_HOME=os.path.join(home, ".composer"), COMPOSER_ALLOW_SUPERUSER="1")
        for readme, kind, file_name, expect, text in blocks:
            if kind == "file":
                with open(os.path.join(home, file_name), "w", encoding="utf-8") as f:
                    f.write(text)
                continue
            result = subprocess.run(["bash", "-e", "-c", text], cwd=home, env=env, capture_output=True,
                                    text=True, timeout=RUN_TIMEOUT)
            shown = "\n".join("    " + line for line in (result.stdout + result.stderr).splitlines()[-40:])
            if result.returncode != 0:
                print("FAIL %s (%s): exit status %d\n%s" % (name, readme, result.returncode, shown))
                return False
            missing = [e for e in expect if e not in result.stdout]
            if missing:
                print("FAIL %s (%s): the output lacks %s\n%s" % (name, readme, missing, shown))
                return False
    print("ok   %s" % name)
    return True


def main(names):
    found = quick_starts()
    unknown = [n for n in names if n not in found]
    if unknown:
        sys.exit("no quick start named %s (found: %s)" % (", ".join(unknown), ", ".join(sorted(found))))
    if not found:
        sys.exit("no quick start found in %s" % ", ".join(READMES))
    # A quick start that runs nothing, or checks nothing of what it printed, proves nothing.
    for name, blocks in found.items():
        if not any(kind == "run" and expect for _, kind, _, expect, _ in blocks):
            sys.exit("quick start %s has no run block with an expect=" % name)
    problems = check_excerpts(found)
    if problems:
        print("\n".join("FAIL " + problem for problem in problems))
        return 1
    proc, standin_env = start_standin()
    try:
        results = [run(name, found[name], standin_env) for name in (names or found)]
    finally:
        proc.terminate()
        proc.wait(10)
    print("quick starts: %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
