# Sourced by run-tests.sh --coreclr and the NuGet package test: a real CoreCLR to run the
# mcs-built assemblies on. .NET proper cannot be installed here, so it comes from PyPI's
# dotnetcore2 (the .NET Core 3.1 runtime, with its `dotnet` host), in a virtual environment under
# target/ that is made once and reused. Sets DOTNET (the host) and writes nothing outside target/.
# shellcheck shell=bash

# ensure_commands (apt-get), for python3-venv where it is missing.
source "$root/scripts/common.sh"

coreclr_venv="$root/target/csharp-coreclr/venv"
coreclr_package="dotnetcore2==3.1.23"

ensure_dotnet() {
    if [[ ! -x $coreclr_venv/bin/python ]] || ! "$coreclr_venv/bin/python" -c "import dotnetcore2" 2>/dev/null; then
        echo "== installing a CoreCLR runtime: $coreclr_package (PyPI) in $coreclr_venv"
        rm -rf "$coreclr_venv"
        if ! python3 -m venv "$coreclr_venv" 2>/dev/null; then
            # Debian's python3 keeps venv's ensurepip in a package of its own.
            ensure_commands __missing__:python3-venv
            rm -rf "$coreclr_venv"
            python3 -m venv "$coreclr_venv"
        fi
        local try
        for try in 1 2 3; do
            "$coreclr_venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir "$coreclr_package" && break
            ((try < 3)) || return 1
            echo "pip failed (try $try of 3)" >&2
            sleep $((try * 10))
        done
    fi
    DOTNET=$("$coreclr_venv/bin/python" -c 'from dotnetcore2 import runtime; print(runtime.get_runtime_path())')
    export DOTNET
    # No ICU is needed: the runtime configuration written by write_runtimeconfig asks for the
    # invariant globalization mode, and so does this for anything started otherwise.
    export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
    export DOTNET_CLI_TELEMETRY_OPTOUT=1
}

# write_runtimeconfig FILE: a framework-dependent application's runtime configuration, as
# `dotnet build` writes it beside App.dll (App.runtimeconfig.json): the Microsoft.NETCore.App
# framework 3.1 or any later one (rollForward LatestMajor), invariant globalization.
write_runtimeconfig() {
    cat >"$1" <<'JSON'
{
  "runtimeOptions": {
    "tfm": "netcoreapp3.1",
    "rollForward": "LatestMajor",
    "framework": { "name": "Microsoft.NETCore.App", "version": "3.1.0" },
    "configProperties": { "System.Globalization.Invariant": true }
  }
}
JSON
}
