"""``praxis plugins new`` writes a plugin package an integrator can install and build on.

The first test is the integrator's proof, end to end and as they would do it: scaffold with
the command, install the package with pip into a virtualenv of its own, run the package's
own tests with that virtualenv's Python, and find the plugin through its entry point with
``praxis plugins list``. The others check every kind in this process: each scaffold's tests
pass as written, its code is clean by the package's own ruff settings, and the command
refuses what it should, saying why.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.version import Version

from praxis.core.cli import main
from praxis.core.providers.common import PLUGIN_API
from praxis.core.providers.kinds import KINDS
from tests.docs.nested import run_its_tests

PRAXIS = "import sys; from praxis.core.cli import main; sys.argv[0] = 'praxis'; sys.exit(main())"


def praxis_command() -> list[str]:
    """The ``praxis`` console script of this environment (its code, if there is no script)."""
    script = Path(sys.executable).with_name("praxis")
    return [str(script)] if script.exists() else [sys.executable, "-c", PRAXIS]


def run(command: list[str | Path], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{command[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def why_no_offline_build() -> str | None:
    """pip builds a setuptools package without the network only if bdist_wheel is here:
    setuptools 70.1 or newer has it; older ones need the ``wheel`` package."""
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed in this environment"
    import setuptools

    if Version(setuptools.__version__) >= Version("70.1"):
        return None
    if importlib.util.find_spec("wheel") is not None:
        return None
    return (
        f"setuptools {setuptools.__version__} cannot build a wheel without the network (it "
        "needs the wheel package): add setuptools>=77 to the dev extra in pyproject.toml"
    )


def test_an_integrator_scaffolds_installs_and_tests_a_plugin(tmp_path: Path) -> None:
    reason = why_no_offline_build()
    assert reason is None, reason  # the dev extra brings what the build needs
    # 1. The command, as documented.
    run([*praxis_command(), "plugins", "new", "sms", "sms_proof", "--dest", tmp_path], cwd=tmp_path)
    package = tmp_path / "praxis-sms-proof"
    # 2. A virtualenv of its own that sees this environment's packages (Praxis among them).
    # Not --system-site-packages: when the suite runs in a virtualenv (make test), that shows
    # the base interpreter's packages, not these; a .pth naming these does. Without pip of its
    # own: this environment's pip, seen through the .pth, saves ensurepip's ten seconds.
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path
    )
    here = [d for d in site.getsitepackages() if Path(d).is_dir()]
    assert sysconfig.get_paths()["purelib"] in here
    lines = "".join(f"import site; site.addsitedir({d!r})\n" for d in here)
    Path(purelib.stdout.strip(), "praxis_environment.pth").write_text(lines, encoding="utf-8")
    # 3. Installed as a distribution, with its entry point: nothing fetched.
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            package,
        ],
        cwd=tmp_path,
    )
    # 4. Its own tests, with the virtualenv's Python, against the installed package (-P: the
    # package's folder is not on the path).
    tested = run([python, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package)
    assert " passed" in tested.stdout and "failed" not in tested.stdout, tested.stdout
    # 5. The platform finds it through its entry point, usable.
    listing = run([python, "-c", PRAXIS, "plugins", "list"], cwd=tmp_path).stdout.splitlines()
    [line] = [line for line in listing if line.startswith("sms_proof ")]
    assert " sms " in line and "DISABLED" not in line, line
    where = run([python, "-c", "import praxis_sms_proof as p; print(p.__file__)"], cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), where.stdout


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kinds_scaffold_passes_its_own_tests_as_written(kind: str, tmp_path: Path) -> None:
    made = CliRunner().invoke(main, ["plugins", "new", kind, f"{kind}_lumen", "--dest", tmp_path])
    assert made.exit_code == 0, made.output
    package = tmp_path / f"praxis-{kind}-lumen"
    assert f"Wrote {package}" in made.output
    assert run_its_tests(package) == pytest.ExitCode.OK, f"{kind}: its tests failed (above)"


def test_every_scaffold_is_clean_by_its_own_ruff_settings(tmp_path: Path) -> None:
    assert shutil.which("ruff", path=str(Path(sys.executable).parent)), (
        "ruff: make test installs it"
    )
    for kind in KINDS:
        CliRunner().invoke(main, ["plugins", "new", kind, f"{kind}_lumen", "--dest", tmp_path])
    ruff = Path(sys.executable).with_name("ruff")
    for package in sorted(tmp_path.iterdir()):
        run([ruff, "check", "--no-cache", "."], cwd=package)
        run([ruff, "format", "--no-cache", "--check", "."], cwd=package)


def test_the_scaffold_declares_what_its_kinds_operations_send(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["plugins", "new", "payments", "payments_lumen", "--dest", tmp_path])
    hooks = (
        tmp_path / "praxis-payments-lumen" / "praxis_payments_lumen" / "__init__.py"
    ).read_text()
    for operation in KINDS["payments"].operations:
        declared = f'operation="{operation.name}"' in hooks
        assert declared == bool(operation.sends), operation.name
        for category in operation.sends:
            assert f"DataCategory.{category.name}" in hooks
    assert f'requires=">={PLUGIN_API},<2"' in hooks  # the platform it runs on


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["vidoe", "video_lumen"], "There is no plugin kind 'vidoe'. Did you mean video?"),
        (["video", "Video-Lumen"], "plugin names are lower_snake_case, 2-48 characters, for "),
        (["video", "x"], "'x' cannot be a plugin name"),
    ],
)
def test_a_wrong_kind_or_name_is_refused_saying_why(
    arguments: list[str], said: str, tmp_path: Path
) -> None:
    refused = CliRunner().invoke(main, ["plugins", "new", *arguments, "--dest", tmp_path])
    assert refused.exit_code == 2 and said in refused.output, refused.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    mine = tmp_path / "praxis-sms-lumen"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own work")
    refused = CliRunner().invoke(main, ["plugins", "new", "sms", "sms_lumen", "--dest", tmp_path])
    assert refused.exit_code == 1 and "never overwrites" in refused.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
