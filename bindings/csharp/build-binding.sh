# Sourced by run-demo.sh, run-tests.sh and nuget/pack.sh: builds the native library (cargo decides
# whether anything changed; a no-op when it is up to date) and IcdApi.dll (+ IcdApi.xml, the
# documentation) with Mono's mcs, and sets here, root, out, version and LD_LIBRARY_PATH for what
# follows.
# shellcheck shell=bash

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/bin"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)

(cd "$root" && cargo build --release --quiet)

mkdir -p "$out"
# The assembly's version is the crate's, as IcdApi.csproj's <Version> makes it for `dotnet build`.
cat >"$out/AssemblyVersion.g.cs" <<CS
[assembly: System.Reflection.AssemblyVersion("$version.0")]
[assembly: System.Reflection.AssemblyFileVersion("$version.0")]
[assembly: System.Reflection.AssemblyInformationalVersion("$version")]
CS
mcs -nologo -langversion:7 -target:library -warnaserror+ -doc:"$out/IcdApi.xml" \
    -out:"$out/IcdApi.dll" "$here"/src/*.cs "$out/AssemblyVersion.g.cs"
export LD_LIBRARY_PATH="$root/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
