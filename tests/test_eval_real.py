"""``skelzs-train eval-real`` rows, on the shipped checkpoint and the real held-out recordings."""

from __future__ import annotations

from skelzs.assets import asset_path
from skelzs.train.eval_real import EvalRealOptions, eval_real, format_table, pku_two_person


def test_pku_rows_split_single_person_segments_from_interactions(shared_data):
    """The PKU-MMD val row covers all 142 segments; the single-person row is exactly those whose
    class is not one of the eight two-person classes, scored the same way."""
    out = eval_real(EvalRealOptions(checkpoint=asset_path("default"), data=shared_data,
                                    skip=("utkinect", "msr", "ntu", "mediapipe")))
    rows = out["rows"]
    full, single = rows["PKU-MMD val (51 names)"], rows["PKU-MMD val, single-person segments only (51 names)"]
    names = [n for n in (shared_data / "class_names" / "pku51_official_names.txt").read_text().splitlines() if n.strip()]
    two = {names[i] for i in pku_two_person(shared_data)}
    assert len(two) == 8
    assert full["n"] == 142
    assert single["n"] == sum(p["truth"] not in two for p in full["predictions"]) == 19
    assert not any(p["truth"] in two for p in single["predictions"])
    hits = sum(p["truth"] == p["top3"][0] for p in single["predictions"])
    assert abs(single["top1"] - hits / single["n"]) < 1e-9
    assert "single-person segments only" in format_table(out)


def test_aligned_column_is_pgfa_alignment_over_the_rows_recordings(shared_data):
    """The aligned top-1 of a row is the argmax of PGFA's batch alignment over all of that row's
    recordings (support factor 0.9 for the Kinect v1 sets), and the table prints it."""
    import numpy as np
    import torch

    from skelzs.models.api import load
    from skelzs.models.pgfa import prototype_alignment
    from skelzs.stream.classify import classify_sequences
    from skelzs.stream.formats import load_sequence

    out = eval_real(EvalRealOptions(checkpoint=asset_path("default"), data=shared_data,
                                    skip=("pku", "msr", "ntu", "mediapipe")))
    row = out["rows"]["UTKinect subjects 8-10 (10 names)"]
    assert row["support_factor"] == 0.9
    hits = sum(p["aligned_top1"] == p["truth"] for p in row["predictions"])
    assert abs(row["top1_aligned"] - hits / row["n"]) < 1e-9
    assert f"{row['top1_aligned']:.1%} (0.9)" in format_table(out)
    # the same alignment computed by hand on three NTU files
    model = load(asset_path("default"), backend="onnxruntime")
    labels = ["drink water", "handshaking", "brushing teeth", "reading"]
    files = ["S001C001P001R001A001", "S001C003P008R002A058", "S001C001P001R001A003", "S001C001P001R001A011"]
    seqs = [({"file": f}, load_sequence(shared_data / "ntu_skeleton" / f"{f}.skeleton")) for f in files]
    rows, emb = classify_sequences(model, labels, seqs, top_k=4, return_embeddings=True)
    assert emb.shape == (4, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert [r["topk"][0][0] for r in rows] == [labels[i] for i in (emb @ model.encode_text(labels).T).argmax(1)]
    aligned = classify_sequences(model, labels, seqs, top_k=4, align=0.9)
    expect = prototype_alignment(torch.from_numpy(emb), torch.from_numpy(np.asarray(model.encode_text(labels))), 0.9)
    assert [r["topk"][0][0] for r in aligned] == [labels[int(i)] for i in expect.argmax(1)]
    raw = emb @ np.asarray(model.encode_text(labels)).T   # cosine stays the text cosine of the chosen label
    assert [r["cosine"] for r in aligned] == [round(float(raw[i, j]), 4) for i, j in enumerate(expect.argmax(1))]


def test_stream_rows_score_live_windows_in_time_order(shared_data):
    """The stream row scores every live window (stride 8 at the checkpoint's fps) whose centre
    falls inside a labelled action, plain and with --align online, one aligner per recording."""
    import numpy as np

    from skelzs.stream.formats import load_sequence
    from skelzs.stream.preprocess import sliding_windows

    out = eval_real(EvalRealOptions(checkpoint=asset_path("default"), data=shared_data,
                                    skip=("pku", "msr", "ntu", "mediapipe")))
    stream = next(r for name, r in out["rows"].items() if "as a stream" in name)
    assert stream["stride"] == 8 and 0 <= stream["top1_online"] <= 1 and 0 <= stream["top1"] <= 1
    assert "online: " in format_table(out)
    seq = load_sequence(shared_data / "kinect_v1" / "UTKinect" / "joints" / "joints_s08_e01.txt")
    raw, starts = sliding_windows(seq, 40, 15.0, 8, return_starts=True)
    assert len(raw) == len(starts) and starts[0] == 0 and np.all(np.diff(starts)[:-1] == 8)
    last = np.rint(np.arange(0.0, seq.num_frames / seq.fps, 1 / 15.0) * seq.fps).size - 40
    assert starts[-1] == last  # the last window ends with the recording
    np.testing.assert_array_equal(raw, sliding_windows(seq, 40, 15.0, 8))
    # 6 recordings of subjects 8-10, each with at most 10 actions of 2+ s: some hundreds of windows
    assert 100 < stream["n"] < 600


def test_a_checkpoint_without_window_normalization_gets_every_row(shared_data, tmp_path):
    """A PGFA checkpoint of the papers' ``frame50`` pipeline (no batch window normalizer) goes
    through the same rows: its live windows use its own stream pipeline, never a traceback."""
    from skelzs.tools.bench_pipeline import untrained_checkpoint

    ckpt = untrained_checkpoint(tmp_path / "frame50")
    out = eval_real(EvalRealOptions(checkpoint=ckpt, data=shared_data, skip=("pku", "msr", "ntu", "mediapipe")))
    names = list(out["rows"])
    assert len(names) == 2 and "as a stream" in names[1]
    stream = out["rows"][names[1]]
    assert stream["n"] > 100 and 0 <= stream["top1"] <= 1
