"""Shard assignment and planning: deterministic, by target face, stable bucket counts, left-out videos."""

import pytest
from work_fixture import TREE, Video, add_video, make_work

from pipeline.engine.runstate import RunState
from pipeline.errors import LrlError
from pipeline.params import ShardsParams
from pipeline.stages.shards import bucket_count, bucket_of, group_key, plan_shards
from pipeline.store.layout import WorkLayout


def _assignment(plan) -> dict[str, str]:
    return {v.key: t.key for t in plan.tasks for v in t.payload.videos}


def _plan(work, shard_samples=6, saved=None):
    with RunState(WorkLayout(work).state_db) as state:
        return plan_shards(work, state, ShardsParams(shard_samples=shard_samples), saved or {})


def test_bucket_count_keeps_the_previous_count_within_twice_the_target():
    assert bucket_count(10000, 4096) == 2
    assert bucket_count(0, 4096) == 1 and bucket_count(100, 4096) == 1
    assert bucket_count(15000, 4096, previous=2) == 2  # fill 7500 <= 8192
    assert bucket_count(20000, 4096, previous=2) == 5  # fill 10000 > 8192: recomputed
    assert bucket_count(5000, 4096, previous=2) == 2  # fill 2500 >= 2048, though 1 would do now
    assert bucket_count(3000, 4096, previous=2) == 1  # fill 1500 < 2048: recomputed


def test_bucket_of_is_stable_and_spreads_groups():
    groups = [f"ffpp/youtube/{i:03d}" for i in range(200)]
    first = [bucket_of(g, 7) for g in groups]
    assert first == [bucket_of(g, 7) for g in groups]
    assert set(first) == set(range(7))
    assert all(bucket_of(g, 1) == 0 for g in groups)


def test_a_real_and_its_fakes_at_every_quality_share_a_group():
    real, fake = Video("012", "train").record, Video("012", "train", "FaceSwap", "034", "c40").record
    assert group_key(real) == group_key(fake) == "ffpp/youtube/012"
    assert group_key(Video("034", "train").record) != group_key(fake)


def test_plan_is_deterministic_and_groups_targets(tmp_path):
    records = make_work(tmp_path)
    first, second = _plan(tmp_path), _plan(tmp_path)
    assert [(t.key, t.fingerprint) for t in first.tasks] == [(t.key, t.fingerprint) for t in second.tasks]
    assert first.buckets == {"test": 1, "train": 4, "val": 1}  # train: 8 videos x 3 frames / 6
    where = _assignment(first)
    assert set(where) == set(records)
    for key, rec in records.items():
        assert where[key].startswith(rec.split + "-")
        assert where[key] == where[f"ffpp/youtube/c23/{rec.target}"]  # with its real


def test_adding_a_video_changes_only_its_own_shard(tmp_path):
    make_work(tmp_path)
    before = _plan(tmp_path)
    with RunState(WorkLayout(tmp_path).state_db) as state:
        new = add_video(tmp_path, state, Video("001", "train", "FaceSwap", "002"), seed=40)
    after = _plan(tmp_path, saved=before.buckets)
    assert after.buckets == before.buckets
    where = _assignment(after)
    changed = {t.key for t in after.tasks} - {t.key for t in before.tasks} | {
        a.key for a, b in zip(after.tasks, before.tasks, strict=False) if a.fingerprint != b.fingerprint
    }
    assert changed == {where[new.key]}
    assert {k: v for k, v in where.items() if k != new.key} == _assignment(before)


def test_fingerprint_follows_upstream_and_params(tmp_path):
    make_work(tmp_path)
    base = {t.key: t.fingerprint for t in _plan(tmp_path).tasks}
    with RunState(WorkLayout(tmp_path).state_db) as state:
        add_video(tmp_path, state, TREE[0], seed=0, version="2")  # extract re-ran for one real
        alpha = plan_shards(tmp_path, state, ShardsParams(alpha=0.2, shard_samples=6), {})
    changed = {t.key for t in _plan(tmp_path).tasks if base[t.key] != t.fingerprint}
    assert changed == {_assignment(_plan(tmp_path))["ffpp/youtube/c23/000"]}
    assert all(base[t.key] != t.fingerprint for t in alpha.tasks)


def test_left_out_videos_are_reported(tmp_path):
    make_work(tmp_path)
    with RunState(WorkLayout(tmp_path).state_db) as state:
        no_mask = add_video(tmp_path, state, Video("002", "train", "NeuralTextures", "003"), masks=False)
        other_size = add_video(tmp_path, state, Video("003", "train", "youtube", quality="c40"), size=48)
    plan = _plan(tmp_path)
    reasons = dict(plan.left_out)
    assert "no done masks record" in reasons[no_mask.key]
    assert "crop size 48, the shard set's is 32" in reasons[other_size.key]
    assert no_mask.key not in _assignment(plan) and other_size.key not in _assignment(plan)


def test_bad_params_are_one_line_errors():
    with pytest.raises(LrlError, match="compression"):
        ShardsParams(compression="zip")
    with pytest.raises(LrlError, match="alpha"):
        ShardsParams(alpha=-0.1)
