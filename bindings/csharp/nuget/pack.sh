#!/usr/bin/env bash
# `make nupkg`: builds the native library and the binding, and writes
# target/nuget/IcdApi.<version>.nupkg (lib/netstandard2.0/IcdApi.dll + IcdApi.xml,
# runtimes/linux-x64/native/libicdapi.so, build/IcdApi.targets; see pack.py). Prints its path last.
# `make dist` (scripts/dist.sh) packs every platform's library instead: it sets
# ICDAPI_NUGET_NATIVES ("RID=LIBRARY ...", libraries already stripped) and ICDAPI_NUGET_OUT.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../build-binding.sh"
package=${ICDAPI_NUGET_OUT:-$root/target/nuget/IcdApi.$version.nupkg}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -n ${ICDAPI_NUGET_NATIVES:-} ]]; then
    read -r -a natives <<<"$ICDAPI_NUGET_NATIVES"
else
    # The symbols cargo leaves in would be most of the package: ship the library stripped.
    strip --strip-unneeded -o "$work/libicdapi.so" "$root/target/release/libicdapi.so"
    natives=("linux-x64=$work/libicdapi.so")
fi
native_args=()
for native in "${natives[@]}"; do
    native_args+=(--native "$native")
done
repository=$(sed -n 's/^repository = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
python3 "$here/nuget/pack.py" --version "$version" --repository "$repository" --commit "$(git -C "$root" rev-parse HEAD 2>/dev/null || true)" \
    --dll "$out/IcdApi.dll" --xml "$out/IcdApi.xml" "${native_args[@]}" \
    --readme "$here/README.md" --out "$package"
echo "$package"
