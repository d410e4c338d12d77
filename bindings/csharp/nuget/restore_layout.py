#!/usr/bin/env python3
"""Lays out a .nupkg as a NuGet restore does, and an application that uses it as the .NET SDK and
MSBuild build it — the files a user's machine has after `dotnet add package IcdApi` and a build —
for test-package.sh. No SDK is available here, so these files are written as the SDK writes them.

    restore_layout.py packages NUPKG                  the global packages folder:
        packages/icdapi/<version>/  the package unpacked (without its OPC parts), icdapi.nuspec,
        icdapi.<version>.nupkg and icdapi.<version>.nupkg.sha512
    restore_layout.py coreclr-app PACKAGES VERSION APPDIR NAME
        APPDIR/NAME.deps.json (the package's runtime assembly and its runtimes/<rid>/native
        assets), NAME.runtimeconfig.dev.json (additionalProbingPaths: PACKAGES, as `dotnet build`
        writes for a restored project); NAME.runtimeconfig.json comes from coreclr.sh
    restore_layout.py mono-app PACKAGES VERSION APPDIR
        what MSBuild copies to a .NET Framework/Mono project's output: the reference
        (lib/netstandard2.0/IcdApi.dll, IcdApi.xml) and the items that the package's
        build/IcdApi.targets marks CopyToOutputDirectory, read from that file
"""

import base64
import hashlib
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
import zipfile

MSBUILD = "{http://schemas.microsoft.com/developer/msbuild/2003}"


def packages(folder, nupkg):
    with zipfile.ZipFile(nupkg) as z:
        nuspec = ET.fromstring(z.read("IcdApi.nuspec"))
        ns = nuspec.tag[:nuspec.tag.index("}") + 1]
        package_id = nuspec.find(ns + "metadata/" + ns + "id").text
        version = nuspec.find(ns + "metadata/" + ns + "version").text
        target = os.path.join(folder, package_id.lower(), version.lower())
        os.makedirs(target)
        for name in z.namelist():
            if name in ("[Content_Types].xml", "IcdApi.nuspec") or name.startswith(("_rels/", "package/")):
                continue
            z.extract(name, target)
        with open(os.path.join(target, package_id.lower() + ".nuspec"), "wb") as f:
            f.write(z.read("IcdApi.nuspec"))
    stem = "%s.%s" % (package_id.lower(), version.lower())
    shutil.copyfile(nupkg, os.path.join(target, stem + ".nupkg"))
    with open(nupkg, "rb") as f:
        digest = base64.b64encode(hashlib.sha512(f.read()).digest()).decode()
    with open(os.path.join(target, stem + ".nupkg.sha512"), "w") as f:
        f.write(digest)
    print(target)


def coreclr_app(folder, version, app, name):
    package = "icdapi/" + version
    with open(os.path.join(folder, package, "icdapi.%s.nupkg.sha512" % version)) as f:
        sha512 = f.read().strip()
    target = ".NETCoreApp,Version=v3.1"
    deps = {
        "runtimeTarget": {"name": target, "signature": ""},
        "compilationOptions": {},
        "targets": {target: {
            name + "/1.0.0": {"dependencies": {"IcdApi": version}, "runtime": {name + ".dll": {}}},
            "IcdApi/" + version: {
                "runtime": {"lib/netstandard2.0/IcdApi.dll": {"assemblyVersion": version + ".0",
                                                               "fileVersion": version + ".0"}},
                # Every platform's library the package carries, as the SDK lists them.
                "runtimeTargets": {
                    "runtimes/%s/native/%s" % (rid, library): {"rid": rid, "assetType": "native", "fileVersion": "0.0.0.0"}
                    for rid in sorted(os.listdir(os.path.join(folder, package, "runtimes")))
                    for library in sorted(os.listdir(os.path.join(folder, package, "runtimes", rid, "native")))},
            },
        }},
        "libraries": {
            name + "/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
            "IcdApi/" + version: {"type": "package", "serviceable": True, "sha512": "sha512-" + sha512,
                                  "path": package, "hashPath": "icdapi.%s.nupkg.sha512" % version},
        },
    }
    with open(os.path.join(app, name + ".deps.json"), "w") as f:
        json.dump(deps, f, indent=2)
    with open(os.path.join(app, name + ".runtimeconfig.dev.json"), "w") as f:
        json.dump({"runtimeOptions": {"additionalProbingPaths": [os.path.abspath(folder)]}}, f, indent=2)


def mono_app(folder, version, app):
    package = os.path.join(folder, "icdapi", version)
    for name in ("IcdApi.dll", "IcdApi.xml"):
        shutil.copy(os.path.join(package, "lib", "netstandard2.0", name), app)
    build = os.path.join(package, "build")
    targets = ET.parse(os.path.join(build, "IcdApi.targets")).getroot()
    copied = 0
    for group in targets.iter(MSBUILD + "ItemGroup"):
        condition = group.get("Condition", "")
        # What this project is: .NET Framework (Mono), not Windows.
        assert "'$(TargetFrameworkIdentifier)' == '.NETFramework'" in condition, condition
        if "'$(OS)' == 'Windows_NT'" in condition:
            continue  # this machine is not Windows
        for item in group:
            if item.findtext(MSBUILD + "CopyToOutputDirectory") not in ("PreserveNewest", "Always"):
                continue
            source = item.get("Include").replace("$(MSBuildThisFileDirectory)", build + os.sep)
            shutil.copy(os.path.normpath(source), os.path.join(app, item.findtext(MSBUILD + "Link")))
            copied += 1
    assert copied, "build/IcdApi.targets copies nothing"


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"packages": packages, "coreclr-app": coreclr_app, "mono-app": mono_app}[command](*args)
