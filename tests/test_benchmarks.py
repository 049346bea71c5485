"""The benchmarks measure what users run: ``skelzs bench pipeline``'s replay part on a small real
input (every configuration encodes the same windows; the report carries the figures the README
quotes) and ``skelzs bench encoder``'s int8 backend (the same graphs as ``load(precision="int8")``).
No timing is asserted."""

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


def test_bench_encoder_int8_backend_is_what_load_runs(tmp_path):
    import numpy as np

    from skelzs.models.api import load
    from skelzs.models.checkpoint import load_checkpoint
    from skelzs.tools.bench_encoder import _int8_backend

    folder = asset_path("default")
    model, config = load_checkpoint(folder)
    loaded = load(folder, precision="int8")
    t = int(config["window"]["frames"])
    bench = _int8_backend(model.eval(), t, 2, folder, config, loaded.backend.session._model_path, 2, tmp_path)
    assert [s._model_path for s in bench.person_sessions] == [s._model_path for s in loaded.backend.person_sessions]
    x = (np.random.default_rng(0).standard_normal((3, 3, t, 25, 2)) * 0.3).astype(np.float32)
    x[1, ..., 1] = 0.0                                       # one window with an absent second person
    np.testing.assert_allclose(bench.embed(x), loaded.encode_skeleton(x), atol=1e-5)


def test_host_noise_probe_reports_ordered_percentiles():
    from skelzs.tools.bench_pipeline import bench_host_noise

    out = bench_host_noise(n=20, pause_s=0.0)
    assert out["runs"] == 20
    assert 0 < out["p50_ms"] <= out["p95_ms"] <= out["p99_ms"]
    assert out["p95_over_p50"] >= 1.0


def test_bench_live_reports_the_pose_engine_and_accounts_for_every_frame(shared_data):
    """One real-time play of the paired NTU clip (3.4 s) through the litert pose engine."""
    from skelzs.models.api import load
    from skelzs.tools.bench_pipeline import bench_live

    model = load(asset_path("default"), backend="onnxruntime")
    out = bench_live(model, shared_data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi", engine="litert")
    assert out["pose_engine"] == "litert"
    assert out["frames_in"] == 103
    assert out["frames_processed"] + out["dropped_capture"] == out["frames_in"]
    assert out["windows"] > 0 and out["windows_skipped"] == 0
    lat = out["latency_ms"]
    for stage in ("pose", "encoder", "compute", "decision"):
        assert 0 < lat[stage]["p50"] <= lat[stage]["p95"]
    assert lat["compute"]["p50"] < lat["decision"]["p50"]     # the window fill is only in the decision
    assert len(out["samples_ms"]["compute"]) == out["windows"]


def test_pooled_live_runs_take_percentiles_over_every_sample():
    from skelzs.tools.bench_pipeline import pool_live_runs

    def run(video, engine, compute, dropped):
        return {"video": video, "pose_engine": engine, "precision": "fp32", "frames_in": 100,
                "dropped_capture": dropped, "windows": len(compute), "processed_fps": 30.0,
                "latency_ms": {"compute": {"p95": max(compute)}},
                "samples_ms": {"pose": [10.0] * 5, "encoder": [5.0] * len(compute), "compute": compute}}

    runs = [run("a.avi", "litert", [10.0] * 19 + [100.0], 1), run("a.avi", "litert", [20.0] * 20, 2),
            run("a.avi", "mediapipe", [30.0] * 20, 0)]
    pooled = {row["pose_engine"]: row for row in pool_live_runs(runs)}
    lit = pooled["litert"]
    assert lit["runs"] == 2 and lit["windows"] == 40 and lit["dropped_capture"] == 3 and lit["frames_in"] == 200
    assert lit["latency_ms"]["compute"]["n"] == 40
    assert lit["latency_ms"]["compute"]["p50"] == 20.0          # 19 samples at 10, 20 at 20, one at 100
    assert lit["latency_ms"]["compute"]["p95_by_run"] == [100.0, 20.0]
    assert pooled["mediapipe"]["latency_ms"]["compute"]["p95"] == 30.0
    assert all("samples_ms" not in r for r in runs)             # raw samples do not end up in the report
