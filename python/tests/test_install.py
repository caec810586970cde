"""The package as installed: by the CMake install (finding the library through
its prefix, with no IFD_LIBRARY) and by pip. Needs IFD_BUILD_DIR (a configured
build tree with the library built), else skips."""

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)


def _build_dir():
    build = os.environ.get("IFD_BUILD_DIR")
    if not build:
        pytest.skip("IFD_BUILD_DIR is not set (the build tree to install from)")
    return build


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("IFD_LIBRARY", "PYTHONPATH")}
    env.update(extra)
    return env


PROBE = ("import interop_fd as ifd, interop_fd.examples.view_moderngl;"
         "c = ifd.Context('vulkan'); i = c.image(3, 2, 'rgba8');"
         "d = i.export_fd(); print(ifd.library_path()); print(ifd.__file__); print(d.width)")


def test_cmake_install_finds_its_library(tmp_path):
    build = _build_dir()
    if not shutil.which("cmake"):
        pytest.skip("no cmake")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--prefix", str(prefix)], check=True,
                   stdout=subprocess.DEVNULL)
    site = prefix / "lib" / "python3" / "dist-packages"
    assert (site / "interop_fd" / "_install_path.py").exists()
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=str(tmp_path), check=True,
                         env=_env(PYTHONPATH=str(site)), capture_output=True, text=True)
    lib_path, pkg, width = out.stdout.split()
    assert os.path.realpath(lib_path).startswith(os.path.realpath(str(prefix)))
    assert pkg.startswith(str(site))
    assert width == "3"


def test_pip_install_in_a_venv(tmp_path):
    build = _build_dir()
    venv = tmp_path / "venv"
    r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("python3 -m venv is not available (Debian: python3-venv): " + r.stderr[-200:])
    py = str(venv / "bin" / "python")
    # A copy, so that setuptools' build folders stay out of the source tree.
    src = tmp_path / "python"
    shutil.copytree(PYTHON_DIR, str(src), ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info", "tests"))
    # --no-build-isolation: offline, with the system's setuptools
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation",
                    str(src)], check=True, cwd=str(tmp_path))
    lib = os.path.join(build, "libinterop_fd.so")
    out = subprocess.run([py, "-c", PROBE], cwd=str(tmp_path), check=True,
                         env=_env(IFD_LIBRARY=lib), capture_output=True, text=True)
    lib_path, pkg, width = out.stdout.split()
    assert lib_path == lib and pkg.startswith(str(venv)) and width == "3"
