#!/usr/bin/env bash
# The NuGet package as its users get it: `make nupkg`'s package is checked (layout, metadata),
# unpacked into a packages folder as a restore does, and a program built against it runs on
# CoreCLR (found through deps.json and the packages folder, as `dotnet run` finds it) and on Mono
# (laid out as MSBuild builds a project with the package, following its build/IcdApi.targets) —
# both with NO LD_LIBRARY_PATH: the native library must come from the package. Against the
# local stand-in; everything is written in a temporary directory.
set -euo pipefail

nuget=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
here=$(cd "$nuget/.." && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/coreclr.sh"   # ensure_dotnet, write_runtimeconfig; and scripts/common.sh

# ICDAPI_NUPKG: a package made elsewhere (`make dist`'s, with every platform), checked and
# consumed instead; ICDAPI_NUPKG_RIDS: the platforms it must carry (default: linux-x64).
if [[ -n ${ICDAPI_NUPKG:-} ]]; then
    package=$ICDAPI_NUPKG
else
    package=$(bash "$nuget/pack.sh" | tail -n 1)
fi
rids=${ICDAPI_NUPKG_RIDS:-linux-x64}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
ensure_dotnet
work=$(mktemp -d)
start_standin   # sets STANDIN_URL; stops it on exit
trap 'kill "$STANDIN_PID" 2>/dev/null || true; rm -rf "$work"' EXIT

passed=0
failed=0

# The package: what is in it, its metadata, and the csproj packing the same for `dotnet pack`.
check "package layout and metadata ($(basename "$package"): $rids)" python3 - "$package" "$version" "$here/IcdApi.csproj" "$rids" <<'PY'
import sys, zipfile, xml.etree.ElementTree as ET
package, version, csproj, rids = sys.argv[1:]
z = zipfile.ZipFile(package)
names = set(z.namelist())
for name in ["IcdApi.nuspec", "[Content_Types].xml", "_rels/.rels", "README.md",
             "lib/netstandard2.0/IcdApi.dll", "lib/netstandard2.0/IcdApi.xml",
             "runtimes/linux-x64/native/libicdapi.so", "build/IcdApi.targets", "buildTransitive/IcdApi.targets"]:
    assert name in names, "missing " + name
assert any(n.startswith("package/services/metadata/core-properties/") for n in names), "no core properties"
# Each platform's library, of that platform: ELF of the machine (x86-64 62, AArch64 183) or a PE DLL.
machines = {"x64": 62, "arm64": 183}
natives = sorted(n for n in names if n.startswith("runtimes/"))
for rid in rids.split():
    library = "runtimes/%s/native/%s" % (rid, "icdapi.dll" if rid.startswith("win-") else "libicdapi.so")
    assert library in names, "missing %s (the package has %s)" % (library, natives)
    data = z.read(library)
    if rid.startswith("win-"):
        assert data[:2] == b"MZ" and b"PE\0\0" in data[:1024], library + " is no Windows DLL"
    else:
        assert data[:4] == b"\x7fELF", library + " is no ELF file"
        assert int.from_bytes(data[18:20], "little") == machines[rid.rsplit("-", 1)[1]], library + ": another machine"
assert len(natives) == len(rids.split()), "libraries of other platforms than %s: %s" % (rids, natives)
assert z.read("lib/netstandard2.0/IcdApi.dll")[:2] == b"MZ", "IcdApi.dll is no assembly"
assert b"IcdApi.nuspec" in z.read("_rels/.rels"), "_rels/.rels names no manifest"
meta = ET.fromstring(z.read("IcdApi.nuspec")).find("{*}metadata")
get = lambda tag: (meta.findtext("{*}" + tag) or "").strip()
assert get("id") == "IcdApi", get("id")
assert get("version") == version, "version %s, crate %s" % (get("version"), version)
assert get("authors") and len(get("description")) > 50, "authors and description"
license = meta.find("{*}license")
assert license is not None and license.get("type") == "expression" and license.text == "MIT OR Apache-2.0", "license"
repository = meta.find("{*}repository")
assert repository is not None and repository.get("type") == "git", "repository"
assert get("readme") == "README.md", "readme"
project = ET.parse(csproj).getroot()
text = lambda tag: [e.text for e in project.iter(tag)]
assert text("Version") == [version], "IcdApi.csproj's Version %s, crate %s" % (text("Version"), version)
assert text("PackageId") == ["IcdApi"] and text("PackageLicenseExpression") == ["MIT OR Apache-2.0"], "csproj metadata"
packed = {(e.get("Include"), e.get("PackagePath")) for e in project.iter("None") if e.get("Pack") == "true"}
assert any(i.endswith("target/release/libicdapi.so") and p == "runtimes/linux-x64/native/" for i, p in packed), packed
assert any(i.endswith("IcdApi.targets") and "build/" in p and "buildTransitive/" in p for i, p in packed), packed
print("ok")
PY

# Restored: the global packages folder, and the program built against the package's reference.
pkg=$(python3 "$nuget/restore_layout.py" packages "$work/packages" "$package")
mkdir -p "$work/coreclr-app" "$work/mono-app"
mcs -nologo -langversion:7 -target:exe -warnaserror+ -r:"$pkg/lib/netstandard2.0/IcdApi.dll" \
    -out:"$work/coreclr-app/PackageCheck.dll" "$nuget/PackageCheck.cs"
cp "$work/coreclr-app/PackageCheck.dll" "$work/mono-app/PackageCheck.exe"
write_runtimeconfig "$work/coreclr-app/PackageCheck.runtimeconfig.json"
python3 "$nuget/restore_layout.py" coreclr-app "$work/packages" "$version" "$work/coreclr-app" PackageCheck
python3 "$nuget/restore_layout.py" mono-app "$work/packages" "$version" "$work/mono-app"

export ICD_CLIENT_ID=standin-client ICD_CLIENT_SECRET=standin-secret
export ICD_API_BASE=$STANDIN_URL ICD_TOKEN_ENDPOINT=$STANDIN_URL/connect/token
expect() { # expect NAME EXPECTED-LINES... -- COMMAND...: runs it, and every line must be in its output
    local name=$1 lines=()
    shift
    while [[ $1 != -- ]]; do lines+=("$1"); shift; done
    shift
    local output line
    output=$("$@" 2>&1) || { echo "$output"; return 1; }
    for line in "${lines[@]}"; do
        grep -qxF -- "$line" <<<"$output" || { echo "missing: $line"; echo "$output"; return 1; }
    done
    echo "$output"
}
check "CoreCLR: the binding and libicdapi.so from the packages folder (deps.json), no LD_LIBRARY_PATH" \
    expect coreclr "runtime: coreclr" \
    "native library: $version from $pkg/runtimes/linux-x64/native/libicdapi.so" \
    "binding: $version.0 from $pkg/lib/netstandard2.0/IcdApi.dll" \
    "search: 1A00 Cholera" -- \
    env -u LD_LIBRARY_PATH "$DOTNET" "$work/coreclr-app/PackageCheck.dll"
check "Mono: the binding and libicdapi.so beside the program (build/IcdApi.targets), no LD_LIBRARY_PATH" \
    expect mono "runtime: mono" \
    "native library: $version from $work/mono-app/libicdapi.so" \
    "binding: $version.0 from $work/mono-app/IcdApi.dll" \
    "search: 1A00 Cholera" -- \
    env -u LD_LIBRARY_PATH mono "$work/mono-app/PackageCheck.exe"
# And without the package's native library, the program says what to do (rather than working by
# accident from somewhere else).
rm "$work/mono-app/libicdapi.so"
check "Mono: without the package's libicdapi.so, a DllNotFoundException that says what to do" \
    bash -c '! out=$(env -u LD_LIBRARY_PATH mono "$1" 2>&1) && grep -q "NuGet package IcdApi" <<<"$out"' _ "$work/mono-app/PackageCheck.exe"

echo "nuget package: $passed passed, $failed failed"
((failed == 0))
