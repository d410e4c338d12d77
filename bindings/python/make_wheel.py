#!/usr/bin/env python3
"""Writes the wheel of one platform from the package's Python files and that platform's built
library, for `make dist` (scripts/dist.sh): icdapi-<version>-py3-none-<tag>.whl.

The package loads its library with ctypes (icdapi/_ffi.py), so a wheel is the same Python files
plus the platform's library, under the name _ffi.py looks for (icdapi/_native/lib_native.so,
lib_native.dylib or _native.dll): nothing is compiled per Python version, hence py3-none. The
metadata are those of pyproject.toml, as maturin writes them for `pip install ./bindings/python`
(the wheel format: PEP 427; core metadata 2.1; RECORD with sha256 digests). Entries carry a fixed
time, so the same inputs give the same wheel.

    make_wheel.py --library target/<triple>/release/libicdapi.so --tag manylinux2014_x86_64 --out DIR
"""

import argparse
import base64
import hashlib
import os
import re
import sys
import tomllib
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def crate_version():
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        return tomllib.load(f)["package"]["version"]


def native_name(tag):
    if tag.startswith("win"):
        return "_native.dll"
    if tag.startswith("macosx"):
        return "lib_native.dylib"
    return "lib_native.so"


def metadata(project, version):
    lines = [
        "Metadata-Version: 2.1",
        "Name: " + project["name"],
        "Version: " + version,
    ]
    lines += ["Classifier: " + c for c in project.get("classifiers", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines += ["Requires-Dist: %s ; extra == '%s'" % (r, extra) for r in requirements]
        lines.append("Provides-Extra: " + extra)
    lines += ["Requires-Dist: " + r for r in project.get("dependencies", [])]
    lines += [
        "Summary: " + project["description"],
        "Keywords: " + ",".join(project.get("keywords", [])),
        "License: " + project["license"],
        "Requires-Python: " + project["requires-python"],
        "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM",
    ]
    with open(os.path.join(HERE, project["readme"]), encoding="utf-8") as f:
        readme = f.read()
    return "\n".join(lines) + "\n\n" + readme


def python_files():
    package = os.path.join(HERE, "icdapi")
    for name in sorted(os.listdir(package)):
        if name.endswith(".py") or name == "py.typed":
            yield "icdapi/" + name, os.path.join(package, name)


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", required=True, help="the platform's built library")
    parser.add_argument("--tag", required=True, help="the platform tag, e.g. manylinux2014_x86_64, win_amd64")
    parser.add_argument("--out", required=True, help="the directory to write the wheel into")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z0-9_]+", args.tag):
        sys.exit("make_wheel.py: not a platform tag: %r" % args.tag)

    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    version = crate_version()
    name = project["name"]
    dist_info = "%s-%s.dist-info" % (name, version)
    wheel_tag = "py3-none-" + args.tag

    entries = []
    for entry, path in python_files():
        with open(path, "rb") as f:
            entries.append((entry, f.read(), 0o644))
    with open(args.library, "rb") as f:
        entries.append(("icdapi/_native/" + native_name(args.tag), f.read(), 0o755))
    scripts = project.get("scripts", {})
    entries.append((dist_info + "/METADATA", metadata(project, version).encode(), 0o644))
    entries.append((dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: icdapi make_wheel.py\n"
                                           "Root-Is-Purelib: false\nTag: %s\n" % wheel_tag).encode(), 0o644))
    if scripts:
        text = "[console_scripts]\n" + "".join("%s=%s\n" % item for item in scripts.items())
        entries.append((dist_info + "/entry_points.txt", text.encode(), 0o644))
    record = dist_info + "/RECORD"
    record_text = "".join(record_line(n, d) + "\n" for n, d, _ in entries) + record + ",,\n"
    entries.append((record, record_text.encode(), 0o644))

    os.makedirs(args.out, exist_ok=True)
    wheel = os.path.join(args.out, "%s-%s-%s.whl" % (name, version, wheel_tag))
    with zipfile.ZipFile(wheel + ".partial", "w", zipfile.ZIP_DEFLATED) as z:
        for entry, data, mode in entries:
            info = zipfile.ZipInfo(entry, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, data)
    os.replace(wheel + ".partial", wheel)
    print(wheel)


if __name__ == "__main__":
    main()
