"""Dataset adapters on hand-made trees: Celeb-DF's inverted test list, DFDC's metadata across parts,
every unusable entry reported (never silently dropped), layout detection, old run states."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import prep
from pipeline.dataset.adapters import ADAPTERS, detect_dataset, scan
from pipeline.engine.runstate import RunState
from pipeline.errors import LrlError
from pipeline.params import DATASETS
from pipeline.stages.context import saved_problems, saved_roots, saved_sources


def touch(path: Path, data: bytes = b"\0" * 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def records(index) -> dict:
    return {r.video: r for r in index.records}


def reasons(problems) -> list[str]:
    return [str(p) for p in problems]


def test_the_registry_is_what_dataset_offers():
    assert DATASETS == ("auto", *ADAPTERS)


# ---------------------------------------------------------------- Celeb-DF


def celebdf_tree(root: Path, listing: str) -> Path:
    touch(root / "Celeb-real" / "videos" / "id0_0000.mp4")  # nested, as some copies are
    touch(root / "Celeb-real" / "videos" / "id1_0003.mp4")
    touch(root / "Celeb-synthesis" / "id0_id1_0000.mp4")
    touch(root / "Celeb-synthesis" / "id1_id0_0003.mp4")
    touch(root / "YouTube-real" / "00170.mp4")
    touch(root / "YouTube-real" / "00171.mp4")
    (root / "List_of_testing_videos.txt").write_text(listing)
    return root


def test_celebdf_test_list_labels_are_inverted_1_real_0_fake(tmp_path):
    root = celebdf_tree(
        tmp_path, "1 YouTube-real/00170.mp4\n1 Celeb-real/id0_0000.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4\n"
    )
    index = scan(root)
    got = {v: (r.dataset, r.method, r.quality, r.label, r.split) for v, r in records(index).items()}
    assert got == {
        "00170": ("celebdf", "YouTube-real", "orig", 0, "test"),  # listed with 1: a real
        "id0_0000": ("celebdf", "Celeb-real", "orig", 0, "test"),
        "id0_id1_0000": ("celebdf", "Celeb-synthesis", "orig", 1, "test"),  # listed with 0: a fake
        "00171": ("celebdf", "YouTube-real", "orig", 0, "train"),  # not listed: training data
        "id1_0003": ("celebdf", "Celeb-real", "orig", 0, "train"),
        "id1_id0_0003": ("celebdf", "Celeb-synthesis", "orig", 1, "train"),
    }
    fake = records(index)["id0_id1_0000"]
    assert (fake.target, fake.target_method, fake.source) == ("id0_0000", "Celeb-real", "id1")
    assert records(index)["id1_id0_0003"].target == "id1_0003"
    assert not index.problems and not index.notes


def test_celebdf_list_disagreeing_with_the_folder_or_naming_no_file_is_a_problem(tmp_path):
    root = celebdf_tree(
        tmp_path, "0 YouTube-real/00170.mp4\n1 Celeb-real/id7_0000.mp4\n2 Celeb-real/id0_0000.mp4\n"
    )
    index = scan(root)
    listing = str(root / "List_of_testing_videos.txt")
    assert reasons(index.problems) == [
        f"{listing}: line 1 '0 YouTube-real/00170.mp4': label 0 means fake in this list, but YouTube-real "
        f"holds reals: {root / 'YouTube-real' / '00170.mp4'} not used",
        f"{listing}: line 2 '1 Celeb-real/id7_0000.mp4': no such file in ROOT",
        f"{listing}: line 3 '2 Celeb-real/id0_0000.mp4': not '<label> <folder>/<file>' with label 1 (real) "
        "or 0 (fake) and folder one of Celeb-real, YouTube-real, Celeb-synthesis",
    ]
    assert "00170" not in records(index)  # which of list and folder is wrong is unknown: not used
    assert {r.split for r in index.records} == {"train"}
    assert CliRunner().invoke(prep, ["index", "--root", str(root)]).exit_code == 1


def test_celebdf_without_its_list_is_all_training_data_with_a_note(tmp_path):
    root = celebdf_tree(tmp_path, "")
    (root / "List_of_testing_videos.txt").unlink()
    touch(root / "Celeb-synthesis" / "id5_id0_0001.mp4")  # its real id5_0001 is absent
    index = scan(root)
    assert {r.split for r in index.records} == {"train"} and len(index.records) == 7
    assert reasons(index.notes) == [
        f"{root / 'List_of_testing_videos.txt'}: missing: every video is in split train; no test split: "
        "--evaluate --split test will find no celebdf samples",
        f"{root / 'Celeb-synthesis' / 'id5_id0_0001.mp4'}: its real Celeb-real/id5_0001 is not in ROOT: no "
        "difference mask (masks: no mask)",
    ]


# ---------------------------------------------------------------- DFDC


def dfdc_tree(root: Path, parts: dict[str, dict], files: dict[str, list[str]]) -> Path:
    for part, meta in parts.items():
        touch(root / part / "metadata.json", json.dumps(meta).encode())
    for part, names in files.items():
        for name in names:
            touch(root / part / name)
    return root


def entry(label: str, original: str | None = None) -> dict:
    return {"label": label, "split": "train", "original": original}


def test_dfdc_fake_whose_original_is_in_another_part_has_it_as_target(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {
            "dfdc_train_part_0": {"aaa.mp4": entry("REAL"), "ccc.mp4": entry("FAKE", "bbb.mp4")},
            "dfdc_train_part_1": {"bbb.mp4": entry("REAL"), "ddd.mp4": entry("FAKE", "zzz.mp4")},
        },
        {"dfdc_train_part_0": ["aaa.mp4", "ccc.mp4"], "dfdc_train_part_1": ["bbb.mp4", "ddd.mp4"]},
    )
    index = scan(root)
    got = {
        v: (r.dataset, r.method, r.quality, r.label, r.target, r.target_method, r.split)
        for v, r in records(index).items()
    }
    assert got == {
        "aaa": ("dfdc", "real", "orig", 0, "aaa", "real", "train"),
        "bbb": ("dfdc", "real", "orig", 0, "bbb", "real", "train"),
        "ccc": ("dfdc", "fake", "orig", 1, "bbb", "real", "train"),  # its original is in part 1
        "ddd": ("dfdc", "fake", "orig", 1, "zzz", "real", "train"),
    }
    assert not index.problems
    assert reasons(index.notes) == [
        f"{root / 'dfdc_train_part_1' / 'ddd.mp4'}: original zzz.mp4 is in no part: no "
        "difference mask (masks: no mask)"
    ]


def test_dfdc_fake_whose_original_is_a_typo_is_a_note_saying_so_exit_0(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {"dfdc_train_part_0": {"aaa.mp4": entry("REAL"), "fff.mp4": entry("FAKE", "nothere.mp4")}},
        {"dfdc_train_part_0": ["aaa.mp4", "fff.mp4"]},
    )
    index = scan(root)
    assert not index.problems and sorted(records(index)) == ["aaa", "fff"]
    assert reasons(index.notes) == [
        f"{root / 'dfdc_train_part_0' / 'fff.mp4'}: original nothere.mp4 is in no part: "
        "no difference mask (masks: no mask)"
    ]
    result = CliRunner().invoke(prep, ["index", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "note: " + reasons(index.notes)[0] in result.output


def test_dfdc_metadata_naming_a_missing_file_is_reported(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {"dfdc_train_part_3": {"aaa.mp4": entry("REAL"), "abc.mp4": entry("FAKE", "aaa.mp4")}},
        {"dfdc_train_part_3": ["aaa.mp4"]},
    )
    index = scan(root)
    assert reasons(index.problems) == [
        f"{root / 'dfdc_train_part_3' / 'metadata.json'}: lists abc.mp4, no such file"
    ]
    assert list(records(index)) == ["aaa"]
    result = CliRunner().invoke(prep, ["index", "--root", str(root)])
    assert (
        result.exit_code == 1
        and "dfdc_train_part_3/metadata.json: lists abc.mp4, no such file" in result.output
    )


def test_dfdc_file_missing_from_metadata_is_reported_and_not_used(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {"dfdc_train_part_0": {"aaa.mp4": entry("REAL")}},
        {"dfdc_train_part_0": ["aaa.mp4", "xyz.mp4"]},
    )
    index = scan(root)
    assert reasons(index.problems) == [
        f"{root / 'dfdc_train_part_0' / 'xyz.mp4'}: not in dfdc_train_part_0/"
        "metadata.json: label unknown, not used"
    ]
    assert list(records(index)) == ["aaa"]


def test_dfdc_unreadable_metadata_and_bad_entries_are_problems_naming_the_file(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {"dfdc_train_part_1": {"aaa.mp4": entry("MAYBE")}},
        {"dfdc_train_part_0": ["bbb.mp4", "ccc.mp4"], "dfdc_train_part_1": ["aaa.mp4"]},
    )
    touch(root / "dfdc_train_part_0" / "metadata.json", b"{not json")
    index = scan(root)
    part0, part1 = root / "dfdc_train_part_0", root / "dfdc_train_part_1"
    assert reasons(index.problems) == [
        f"{part0 / 'metadata.json'}: cannot read it as JSON (Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)): the 2 other files of dfdc_train_part_0/ are not used",
        f"{part1 / 'metadata.json'}: entry aaa.mp4: label 'MAYBE' is neither REAL nor FAKE: not used",
    ]
    assert not index.records


def test_dfdc_public_test_set_is_split_test_its_fakes_without_original(tmp_path):
    root = dfdc_tree(
        tmp_path, {"dfdc_train_part_0": {"aaa.mp4": entry("REAL")}}, {"dfdc_train_part_0": ["aaa.mp4"]}
    )
    touch(root / "test" / "labels.csv", b"filename,label\nt1.mp4,1\nt2.mp4,0\nt3.mp4,1\nt4.mp4,7\n")
    for name in ("t1.mp4", "t2.mp4", "t4.mp4", "t5.mp4"):
        touch(root / "test" / name)
    index = scan(root)
    got = {v: (r.method, r.label, r.target, r.split) for v, r in records(index).items()}
    assert got == {
        "aaa": ("real", 0, "aaa", "train"),
        "t1": ("fake", 1, "t1", "test"),
        "t2": ("real", 0, "t2", "test"),
    }
    labels = root / "test" / "labels.csv"
    assert reasons(index.problems) == [
        f"{labels}: line 5 't4.mp4,7': not '<file>,<label>' with label 1 (fake) or 0 (real): not used",
        f"{labels}: lists t3.mp4, no such file",
        f"{root / 'test' / 't5.mp4'}: not in test/labels.csv: label unknown, not used",
    ]
    assert reasons(index.notes) == [
        f"{root / 'test' / 't1.mp4'}: no original named for this fake: no difference mask (masks: no mask)"
    ]


def test_dfdc_one_video_id_in_two_parts_is_a_problem_and_neither_is_used(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {
            "dfdc_train_part_0": {"aaa.mp4": entry("REAL")},
            "dfdc_train_part_1": {"aaa.mp4": entry("REAL"), "fff.mp4": entry("FAKE", "aaa.mp4")},
        },
        {"dfdc_train_part_0": ["aaa.mp4"], "dfdc_train_part_1": ["aaa.mp4", "fff.mp4"]},
    )
    index = scan(root)
    assert not index.records
    assert [p.reason.split(":")[0] for p in index.problems] == [
        "2 files have the video id 'aaa' ("
        + ", ".join(str(root / p / "aaa.mp4") for p in ("dfdc_train_part_0", "dfdc_train_part_1"))
        + ")",
        "not used",
    ]


def test_dfdc_bad_label_in_labels_csv_is_one_problem(tmp_path):
    touch(
        tmp_path / "test" / "labels.csv",
        b"filename,label\ndjksqlohhk.mp4,FAKE\nokokokokok.mp4,0\nnolabel.mp4\n",
    )
    for name in ("djksqlohhk.mp4", "okokokokok.mp4", "nolabel.mp4"):
        touch(tmp_path / "test" / name)
    index = scan(tmp_path)
    labels = tmp_path / "test" / "labels.csv"
    assert reasons(index.problems) == [
        f"{labels}: line 2 'djksqlohhk.mp4,FAKE': not '<file>,<label>' with label 1 (fake) or 0 (real): not "
        "used",
        f"{labels}: line 4 'nolabel.mp4': not '<file>,<label>' with label 1 (fake) or 0 (real): not used",
    ]
    assert list(records(index)) == ["okokokokok"] and not index.notes


@pytest.mark.parametrize(
    "bad,why",
    [
        ({"label": "Fake", "split": "train", "original": "aaa.mp4"}, "label 'Fake' is neither REAL nor FAKE"),
        ({"label": "FAKE", "split": "dev", "original": "aaa.mp4"}, "split 'dev' is none of train, val, test"),
        ("FAKE", "label None is neither REAL nor FAKE"),
    ],
)
def test_dfdc_bad_metadata_entry_is_one_problem(tmp_path, bad, why):
    root = dfdc_tree(
        tmp_path,
        {"dfdc_train_part_0": {"aaa.mp4": entry("REAL"), "bbb.mp4": bad}},
        {"dfdc_train_part_0": ["aaa.mp4", "bbb.mp4"]},
    )
    index = scan(root)
    assert reasons(index.problems) == [
        f"{root / 'dfdc_train_part_0' / 'metadata.json'}: entry bbb.mp4: {why}: not used"
    ]
    assert list(records(index)) == ["aaa"] and not index.notes


def test_dfdc_fakes_of_a_real_not_used_are_problems_naming_the_problems_file(tmp_path):
    root = dfdc_tree(
        tmp_path,
        {
            "dfdc_train_part_1": {
                "bbb.mp4": entry("Real"),
                "f1.mp4": entry("FAKE", "aaa.mp4"),
                "f2.mp4": entry("FAKE", "bbb.mp4"),
                "f3.mp4": entry("FAKE", "ccc.mp4"),
                "f4.mp4": entry("FAKE", "ddd.mp4"),
                "ddd.mp4": entry("REAL"),
            },
            "dfdc_train_part_2": {},
        },
        {
            "dfdc_train_part_0": ["aaa.mp4"],
            "dfdc_train_part_1": ["bbb.mp4", "f1.mp4", "f2.mp4", "f3.mp4", "f4.mp4"],
            "dfdc_train_part_2": ["ccc.mp4"],
        },
    )
    touch(root / "dfdc_train_part_0" / "metadata.json", b"[]")
    touch(root / "dfdc_train_part_1" / "ddd.mp4", b"")  # listed, but an empty file
    index = scan(root)
    part0, part1, part2 = (root / f"dfdc_train_part_{n}" for n in range(3))
    assert reasons(index.problems) == [
        f"{part0 / 'metadata.json'}: not a JSON object of file name -> {{label, split, original}}: the other "
        "file of dfdc_train_part_0/ is not used",
        f"{part1 / 'metadata.json'}: entry bbb.mp4: label 'Real' is neither REAL nor FAKE: not used",
        f"{part1 / 'ddd.mp4'}: empty file (0 bytes)",
        f"{part1 / 'metadata.json'}: lists ddd.mp4, not usable (see the problem naming it)",
        f"{part2 / 'ccc.mp4'}: not in dfdc_train_part_2/metadata.json: label unknown, not used",
        f"{part1 / 'f1.mp4'}: not used: its real real/aaa is not used either (see the problem of "
        f"{part0 / 'metadata.json'})",
        f"{part1 / 'f2.mp4'}: not used: its real real/bbb is not used either (see the problem of "
        f"{part1 / 'metadata.json'})",
        f"{part1 / 'f3.mp4'}: not used: its real real/ccc is not used either (see the problem of "
        f"{part2 / 'ccc.mp4'})",
        f"{part1 / 'f4.mp4'}: not used: its real real/ddd is not used either (see the problem of "
        f"{part1 / 'ddd.mp4'})",
    ]
    assert not index.records and not index.notes


def test_celebdf_fakes_of_a_real_not_used_are_problems_not_notes(tmp_path):
    root = celebdf_tree(tmp_path, "0 Celeb-real/id0_0000.mp4\n")
    touch(root / "Celeb-real" / "id2_0005.mp4", b"")  # unusable
    touch(root / "Celeb-synthesis" / "id2_id0_0005.mp4")
    index = scan(root)
    listing = root / "List_of_testing_videos.txt"
    assert reasons(index.problems) == [
        f"{root / 'Celeb-real' / 'id2_0005.mp4'}: empty file (0 bytes)",
        f"{listing}: line 1 '0 Celeb-real/id0_0000.mp4': label 0 means fake in this list, but Celeb-real "
        f"holds reals: {root / 'Celeb-real' / 'videos' / 'id0_0000.mp4'} not used",
        f"{root / 'Celeb-synthesis' / 'id0_id1_0000.mp4'}: not used: its real Celeb-real/id0_0000 is not "
        f"used either (see the problem of {listing})",
        f"{root / 'Celeb-synthesis' / 'id2_id0_0005.mp4'}: not used: its real Celeb-real/id2_0005 is not "
        f"used either (see the problem of {root / 'Celeb-real' / 'id2_0005.mp4'})",
    ]
    assert not index.notes
    assert sorted(records(index)) == ["00170", "00171", "id1_0003", "id1_id0_0003"]


def test_ffpp_fakes_of_an_unusable_real_are_problems_unless_another_quality_has_it(tmp_path):
    ffpp = tmp_path / "original_sequences" / "youtube"
    touch(ffpp / "c23" / "videos" / "000.mp4", b"")
    touch(ffpp / "c23" / "videos" / "001.mp4", b"")
    touch(ffpp / "c40" / "videos" / "001.mp4")
    fakes = tmp_path / "manipulated_sequences" / "Deepfakes" / "c23" / "videos"
    touch(fakes / "000_001.mp4")
    touch(fakes / "001_000.mp4")
    index = scan(tmp_path)
    assert reasons(index.problems) == [
        f"{ffpp / 'c23' / 'videos' / '000.mp4'}: empty file (0 bytes)",
        f"{ffpp / 'c23' / 'videos' / '001.mp4'}: empty file (0 bytes)",
        f"{fakes / '000_001.mp4'}: not used: its real youtube/000 is not used either (see the problem of "
        f"{ffpp / 'c23' / 'videos' / '000.mp4'})",
    ]
    assert sorted(records(index)) == ["001", "001_000"] and not index.notes


def test_another_datasets_folders_in_root_are_one_note(tmp_path):
    root = celebdf_tree(tmp_path, "")
    touch(root / "dfdc_train_part_0" / "aaa.mp4")
    index = scan(root, "celebdf")
    assert {r.dataset for r in index.records} == {"celebdf"} and not index.problems
    assert reasons(index.notes) == [
        f"{root}: holds dfdc_train_part_0/ (DFDC), not read with --dataset celebdf: index "
        "it with --dataset dfdc"
    ]
    result = CliRunner().invoke(prep, ["index", "--root", str(root), "--dataset", "celebdf"])
    assert result.exit_code == 0 and "note: " + reasons(index.notes)[0] in result.output
    for n in range(1, 5):
        touch(root / f"dfdc_train_part_{n}" / "aaa.mp4")
    touch(root / "original_sequences" / "youtube" / "c23" / "videos" / "000.mp4")
    assert reasons(scan(root, "celebdf").notes) == [
        f"{root}: holds original_sequences/ (FaceForensics++), not read with --dataset celebdf: index it "
        "with --dataset ffpp",
        f"{root}: holds dfdc_train_part_0/, dfdc_train_part_1/, dfdc_train_part_2/ and 2 more (DFDC), not "
        "read with --dataset celebdf: index them with --dataset dfdc",
    ]


# ---------------------------------------------------------------- detection, old run states


@pytest.mark.parametrize(
    "layout,expected",
    [
        ("manipulated_sequences/Deepfakes/c23/videos/000_001.mp4", "ffpp"),
        ("Celeb-synthesis/videos/id0_id1_0000.mp4", "celebdf"),
        ("dfdc_train_part_12/aaa.mp4", "dfdc"),
        ("test_videos/labels.csv", "dfdc"),
    ],
)
def test_layout_auto_detection(tmp_path, layout, expected):
    touch(tmp_path / layout)
    assert detect_dataset(tmp_path) == expected


def test_unknown_and_mixed_layouts_are_one_line_errors(tmp_path):
    touch(tmp_path / "videos" / "a.mp4")
    with pytest.raises(LrlError) as err:
        scan(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: not a dataset layout this tool knows (looked for original_sequences/ or "
        "manipulated_sequences/ (FaceForensics++); Celeb-real, YouTube-real, Celeb-synthesis/ "
        "(Celeb-DF); dfdc_train_part_<N>/ or labels.csv (DFDC))"
    )
    touch(tmp_path / "original_sequences" / "youtube" / "c23" / "videos" / "000.mp4")
    touch(tmp_path / "YouTube-real" / "00000.mp4")
    with pytest.raises(LrlError, match="holds the layouts of ffpp and celebdf; choose one with --dataset"):
        scan(tmp_path)
    assert [r.dataset for r in scan(tmp_path, "celebdf").records] == ["celebdf"]
    result = CliRunner().invoke(prep, ["index", "--root", str(tmp_path), "--dataset", "dfdc"])
    assert result.exit_code == 2 and "not a DFDC tree" in result.output and "Traceback" not in result.output


def test_a_run_state_of_one_ffpp_root_reads_as_its_one_source(tmp_path):
    """Before several datasets shared a WORK, the run state held one ROOT and a scope naming "ffpp"."""
    with RunState(tmp_path / "state.sqlite") as state:
        state.save_settings(
            "extract",
            {},
            {"methods": None, "qualities": ["c23"], "splits": None, "dataset": "ffpp", "split_dir": None},
            "/data/ffpp",
        )
        state.set_meta("index:problems", [["/data/ffpp/x.mp4", "empty file (0 bytes)"]])
        assert list(saved_sources(state)) == ["ffpp"]
        [(root, scope)] = saved_roots(state)
        assert (root, scope.dataset, scope.qualities, scope.datasets) == (
            Path("/data/ffpp"),
            "ffpp",
            ("c23",),
            None,
        )
        assert reasons(saved_problems(state)) == ["/data/ffpp/x.mp4: empty file (0 bytes)"]
