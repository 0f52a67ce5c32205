"""Folds of identity (pipeline.dataset.folds): no person on both sides, every fake with its real."""

import json
from pathlib import Path

import pytest

from pipeline.dataset.adapters import scan
from pipeline.dataset.folds import check, identity_folds, split_pairs, units
from pipeline.dataset.splits import split_lookup
from pipeline.errors import LrlError
from pipeline.store.records import VideoRecord

REALDEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "realdev" / "ffpp"
METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")


def real(i: str, dataset: str = "ffpp") -> VideoRecord:
    return VideoRecord(dataset, "youtube", "c40", i, f"{i}.mp4", 0, i, "youtube", None, None, "none")


def fake(target: str, source: str, method: str = "Deepfakes") -> VideoRecord:
    name = f"{target}_{source}"
    return VideoRecord("ffpp", method, "c40", name, f"{name}.mp4", 1, target, "youtube", source, None, "none")


def pairs_tree(pairs) -> list[VideoRecord]:
    """Reals of each reciprocal pair and both fakes by every method."""
    out = []
    for a, b in pairs:
        out += [real(a), real(b)]
        out += [fake(t, s, m) for m in METHODS for t, s in ((a, b), (b, a))]
    return out


PAIRS = [("183", "253"), ("469", "481"), ("585", "599"), ("672", "720"), ("866", "878")]


def test_five_reciprocal_pairs_give_one_held_out_pair_per_fold():
    recs = pairs_tree(PAIRS)
    folds = identity_folds(recs, 5)
    assert [f.test for f in folds] == [(p,) for p in PAIRS]
    assert [f.val for f in folds] == [(PAIRS[(k + 1) % 5],) for k in range(5)]
    for f in folds:
        assert len(f.train) == 3
        assert set(f.train) | set(f.val) | set(f.test) == set(PAIRS)
        where = f.split_of()
        assert check(recs, lambda r, where=where: where[r.target]) == []


def test_split_files_put_each_fake_with_its_real_and_both_persons():
    recs = pairs_tree(PAIRS)
    fold = identity_folds(recs, 5)[2]
    lookup = split_lookup(split_pairs(fold, recs))
    assert {r.video for r in recs if lookup[r.video] == "test"} == {
        "585",
        "599",
        *(f"{t}_{s}" for t, s in (("585", "599"), ("599", "585"))),
    }
    assert check(recs, lambda r: lookup[r.video]) == []
    assert sum(lookup[r.video] == "train" for r in recs) == 3 * 10  # 3 pairs: 2 reals, 8 fakes each


def test_a_chain_of_fakes_is_one_unit_and_a_lonely_real_its_own():
    recs = [real("001"), real("002"), real("003"), real("009"), fake("001", "002"), fake("002", "003")]
    assert units(recs) == [("001", "002", "003"), ("009",)]
    lookup = split_lookup(split_pairs(identity_folds(recs + pairs_tree(PAIRS[:1]), 3)[0], recs))
    assert lookup["009"] == lookup["009_009"]  # a real without fakes is written as [a, a]
    assert len({lookup[x] for x in ("001", "002", "003", "001_002", "002_003")}) == 1


def test_check_names_a_person_on_both_sides_and_a_fake_away_from_its_real():
    recs = pairs_tree(PAIRS[:1])
    split = {"183": "train", "253": "test"}
    problems = check(recs, lambda r: "test" if r.key == "ffpp/Deepfakes/c40/183_253" else split[r.target])
    assert problems[0] == "ffpp/Deepfakes/c40/183_253: in test, its real 183 in train"
    assert "person 183: in test, train" in problems
    assert "person 253: in test, train" in problems  # Face2Face's 183_253 (train) shows 253 too
    assert len(problems) == 3


def test_too_few_groups_or_folds_are_refused():
    with pytest.raises(LrlError, match="2 groups of persons .* for 5 folds"):
        identity_folds(pairs_tree(PAIRS[:2]), 5)
    with pytest.raises(LrlError, match="at least 3"):
        identity_folds(pairs_tree(PAIRS), 2)


def test_dfd_records_are_not_folded():
    folds = identity_folds(pairs_tree(PAIRS) + [real("01__walk", "dfd")], 5)
    assert all("01__walk" not in f.split_of() for f in folds)


@pytest.mark.skipif(not REALDEV.is_dir(), reason="../shared/data/realdev is absent")
def test_realdev_ffpp_folds(tmp_path):
    recs = scan(REALDEV).records
    folds = identity_folds(recs, 5)
    ffpp = [r for r in recs if r.dataset == "ffpp"]
    assert len(ffpp) == 50
    tested = set()
    for f in folds:
        assert len(f.test) == 1 and len(f.test[0]) == 2  # one reciprocal pair
        for split, pairs in split_pairs(f, recs).items():
            (tmp_path / f"{split}.json").write_text(json.dumps(pairs))
        index = scan(REALDEV, split_dir=tmp_path)
        assert check([r for r in index.records if r.dataset == "ffpp"], lambda r: r.split) == []
        held = [r for r in index.records if r.split == "test" and r.dataset == "ffpp"]
        assert len(held) == 10 and {r.target for r in held} == set(f.test[0])
        tested |= set(f.test[0])
    assert len(tested) == 10
