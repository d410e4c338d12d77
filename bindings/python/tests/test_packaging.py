"""The package as users get it: the wheel `maturin build` makes installs into a fresh venv and
works with no LD_LIBRARY_PATH or ICDAPI_LIB, from any directory; its types reach a type checker."""

import os
import subprocess
import sys
import textwrap
import zipfile

from conftest import ROOT, StandIn, clean_env

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(ROOT, "bindings", "python")


def the_wheel(tmp: str) -> str:
    """The wheel run-tests.sh built with `maturin build --release` (ICDAPI_TEST_WHEEL), or one
    built here the same way."""
    wheel = os.environ.get("ICDAPI_TEST_WHEEL")
    if not wheel:
        maturin = os.path.join(os.path.dirname(sys.executable), "maturin")
        subprocess.run([maturin, "build", "--release", "--quiet", "--out", tmp], cwd=PACKAGE, check=True)
        wheel = os.path.join(tmp, [name for name in os.listdir(tmp) if name.endswith(".whl")][0])
    return wheel


def test_the_wheel_works_in_a_fresh_venv(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    work = str(tmp_path)
    wheel = the_wheel(work)
    names = zipfile.ZipFile(wheel).namelist()
    assert "icdapi/_native/lib_native.so" in names and "icdapi/py.typed" in names
    metadata = zipfile.ZipFile(wheel).read([n for n in names if n.endswith(".dist-info/METADATA")][0]).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    # Nothing beyond the standard library: cffi only as the extra of maturin's unused cffi loader.
    assert requires == ["Requires-Dist: cffi>=1.17 ; extra == 'cffi'"], requires
    assert "Requires-Python: >=3.9" in metadata

    venv = os.path.join(work, "fresh")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python, script = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin", "icdapi")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--disable-pip-version-check", wheel],
                   check=True)
    elsewhere = os.path.join(work, "elsewhere")
    os.mkdir(elsewhere)
    env = clean_env(standin.env())
    env.pop("PYTHONPATH", None)
    program = textwrap.dedent("""
        import os, sys, icdapi
        with icdapi.Client() as client:
            hit = client.search("cholera", highlightingEnabled=False)["destinationEntities"][0]
        print(hit["theCode"], hit["title"], icdapi.__version__)
        print(icdapi._ffi._library_path().startswith(sys.prefix))
    """)
    result = subprocess.run([python, "-c", program], capture_output=True, text=True, env=env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("1A00 Cholera 0.")
    assert result.stdout.splitlines()[1] == "True"  # the library inside the fresh venv, nowhere else
    result = subprocess.run([script, "code", "1A00"], capture_output=True, text=True, env=env, cwd=elsewhere)
    assert (result.returncode, result.stdout.split("\t")[:2]) == (0, ["1A00", "Cholera"]), result.stderr
    assert "LD_LIBRARY_PATH" not in env and "ICDAPI_LIB" not in env


def mypy(*args: str, cwd: str = PACKAGE) -> "subprocess.CompletedProcess[str]":
    # No cache: nothing is written into the checkout.
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", os.devnull, "--strict", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_every_public_name_is_typed_for_python_3_9() -> None:
    result = mypy("--python-version", "3.9", "icdapi")
    assert result.returncode == 0, result.stdout + result.stderr


def test_users_type_checker_sees_the_types(tmp_path: "os.PathLike[str]") -> None:
    program = os.path.join(str(tmp_path), "user.py")
    with open(program, "w") as f:
        f.write(textwrap.dedent("""
            from typing import List, Union
            import icdapi

            def codes(client: icdapi.Client) -> List[str]:
                found = client.search("cholera", flatResults=True)
                batch: List[Union[icdapi.JSON, icdapi.IcdError]] = client.get_many(["/a"])
                status: icdapi.Status = icdapi.Status.API
                return [hit["theCode"] for hit in found["destinationEntities"]] + [str(batch), status.name]

            wrong: int = icdapi.Client.local("http://localhost:8080").get_text("/x")
        """))
    # Checked against the installed package (not the source folder): py.typed must ship.
    result = mypy(program, cwd=str(tmp_path))
    assert result.returncode == 1, result.stdout
    assert result.stdout.count("error:") == 1, result.stdout
    assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' in result.stdout
