"""``skelzs bench pipeline``'s replay part on a small real input: every configuration encodes the
same windows, and the report carries the figures the README quotes (no timing is asserted)."""

from __future__ import annotations

from skelzs.assets import asset_path


def test_bench_replay_reports_every_configuration(ntu_dir):
    from skelzs.models.api import load
    from skelzs.tools.bench_pipeline import bench_replay

    models = {"fp32": load(asset_path("default"), backend="onnxruntime"),
              "int8": load(asset_path("default"), precision="int8")}
    files = [ntu_dir / "S001C001P001R001A001.skeleton", ntu_dir / "S001C003P008R002A058.skeleton"]
    out = bench_replay(models, files, repeat=1, rounds=1)
    runs = {k: v for k, v in out.items() if "_batch_" in k and isinstance(v, dict) and "windows" in v}
    assert set(runs) == {"fp32_batch_1", "fp32_batch_64", "int8_batch_64"}
    counts = {v["windows"] for v in runs.values()}
    assert len(counts) == 1 and counts.pop() > 0            # each run encoded every window
    assert runs["fp32_batch_1"]["encoder_calls"] == runs["fp32_batch_1"]["windows"]
    assert runs["int8_batch_64"]["encoder_calls"] < runs["int8_batch_64"]["windows"]
    assert out["speedup_vs_fp32_batch_1"]["fp32_batch_1"] == 1.0
    assert out["stages_without_encoder"]["windows"] == runs["fp32_batch_1"]["windows"]
    assert out["encoder_only_int8"]["windows"] == out["encoder_only_fp32"]["windows"] > 0
