#!/usr/bin/env python3
"""Writes the NuGet package IcdApi.<version>.nupkg from the built pieces (pack.sh passes them).

A .nupkg is a zip (Open Packaging Conventions): the .nuspec at the root, [Content_Types].xml,
_rels/.rels pointing at the manifest and at the core properties (package/services/metadata/...),
and the content. Debian's `nuget pack` (2.8) predates license expressions and <repository>, so
the layout is written here, as `dotnet pack` and `nuget pack` write it:

    IcdApi.nuspec
    README.md
    lib/netstandard2.0/IcdApi.dll, IcdApi.xml
    runtimes/<rid>/native/libicdapi.so or icdapi.dll   (one per --native: linux-x64, linux-arm64,
                                                        linux-musl-x64, win-x64, osx-*)
    build/IcdApi.targets, buildTransitive/IcdApi.targets   (the native library for .NET Framework/Mono)

    pack.py --version V [--repository URL] [--commit SHA] --dll IcdApi.dll --xml IcdApi.xml
            --native [RID=]LIBRARY [--native RID=LIBRARY ...] --readme README.md --out IcdApi.V.nupkg
    (a --native without RID= is linux-x64's, as `make nupkg` packs it)
"""

import argparse
import hashlib
import os
import zipfile
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST_REL = "http://schemas.microsoft.com/packaging/2010/07/manifest"
CORE_PROPERTIES_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
# Zip entries carry a fixed time: the same inputs give the same package.
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def nuspec(version, repository, commit):
    with open(os.path.join(HERE, "IcdApi.nuspec"), encoding="utf-8") as f:
        text = f.read()
    where = "".join(' %s="%s"' % (name, escape(value, {'"': "&quot;"}))
                    for name, value in (("url", repository), ("commit", commit)) if value)
    return text.replace("$version$", escape(version)).replace("$repository$", where)


def content_types(extensions):
    defaults = "".join('<Default Extension="%s" ContentType="application/octet" />' % e for e in sorted(extensions))
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
            '<Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
            + defaults + '</Types>')


def rels(psmdcp):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Type="%s" Target="/IcdApi.nuspec" Id="R0" />'
            '<Relationship Type="%s" Target="/%s" Id="R1" />'
            '</Relationships>') % (MANIFEST_REL, CORE_PROPERTIES_REL, psmdcp)


def core_properties(version):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
            '<dc:creator>icdapi maintainers</dc:creator>'
            '<dc:identifier>IcdApi</dc:identifier><version>%s</version>'
            '<keywords>icd icd-11 icd-10 who health classification coding api-client</keywords>'
            '<lastModifiedBy>icdapi pack.py</lastModifiedBy>'
            '</coreProperties>') % escape(version)


def native_file_name(rid):
    """The name .NET's loader tries for [DllImport("icdapi")] on that platform."""
    if rid.startswith("win-"):
        return "icdapi.dll"
    if rid.startswith("osx-"):
        return "libicdapi.dylib"
    return "libicdapi.so"


def natives(values):
    """(rid, path) for each --native, in the order given; one library per RID."""
    pairs = []
    for value in values:
        rid, _, path = value.partition("=") if "=" in value else ("linux-x64", "", value)
        if not rid or "/" in rid or any(rid == seen for seen, _ in pairs):
            raise SystemExit("pack.py: --native %r: expected RID=LIBRARY, each RID once" % value)
        pairs.append((rid, path))
    return pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("version", "dll", "xml", "readme", "out"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--native", required=True, action="append", help="[RID=]the native library of a platform")
    parser.add_argument("--repository", default="", help="the repository's URL (Cargo.toml's repository)")
    parser.add_argument("--commit", default="", help="the commit packed")
    args = parser.parse_args()

    files = [
        ("README.md", args.readme),
        ("lib/netstandard2.0/IcdApi.dll", args.dll),
        ("lib/netstandard2.0/IcdApi.xml", args.xml),
        ("build/IcdApi.targets", os.path.join(HERE, "IcdApi.targets")),
        ("buildTransitive/IcdApi.targets", os.path.join(HERE, "IcdApi.targets")),
    ]
    files += [("runtimes/%s/native/%s" % (rid, native_file_name(rid)), path) for rid, path in natives(args.native)]
    # Named after the content, as NuGet names it after a GUID: one name per package.
    psmdcp = "package/services/metadata/core-properties/%s.psmdcp" % hashlib.sha256(
        (args.version + args.commit).encode()).hexdigest()[:32]
    extensions = {os.path.splitext(name)[1].lstrip(".") for name, _ in files} | {"nuspec"}

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = args.out + ".partial"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as package:
        def put(name, data):
            entry = zipfile.ZipInfo(name, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            package.writestr(entry, data)

        put("_rels/.rels", rels(psmdcp))
        put("IcdApi.nuspec", nuspec(args.version, args.repository, args.commit))
        for name, path in files:
            with open(path, "rb") as f:
                put(name, f.read())
        put(psmdcp, core_properties(args.version))
        put("[Content_Types].xml", content_types(extensions))
    os.replace(partial, args.out)


if __name__ == "__main__":
    main()
