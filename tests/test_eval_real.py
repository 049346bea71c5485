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
