"""Write the bundled demo recording ``assets/demo_recording.npz`` and its ground truth ``.json``.

The recording is made by the motion library (:func:`skelzs.train.synth.generator.generate_recording`):
one person performs the actions below in a row, a second person joins for the interactions.
Deterministic: ``python -m skelzs.tools.make_demo_recording`` rewrites the same files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEMO_ACTIONS = (
    "hand waving", "drink water", "handshaking", "clapping", "sitting down",
    "standing up (from sitting position)", "jump up", "high-five", "touch head (headache)", "falling",
)
# Labels the demo matches against: the recording's actions plus some that never happen.
DISTRACTORS = ("kicking something", "salute", "make a phone call/answer phone", "cheer up")
DEMO_SEED = 2026


def make_demo_recording(out_dir: Path, seed: int = DEMO_SEED) -> tuple[Path, Path]:
    from skelzs.stream.formats import save_sequence
    from skelzs.train.synth.generator import generate_recording

    seq, segments = generate_recording(list(DEMO_ACTIONS), seed)
    seq.meta["segments"] = segments
    rec = out_dir / "demo_recording.npz"
    save_sequence(rec, seq)
    truth = {
        "recording": rec.name, "fps": seq.fps, "frames": seq.num_frames, "seed": seed,
        "generator": "skelzs.train.synth.generator.generate_recording",
        "command": "python -m skelzs.tools.make_demo_recording",
        "labels": list(DEMO_ACTIONS) + list(DISTRACTORS),
        "segments": segments,
    }
    gt = out_dir / "demo_recording.json"
    gt.write_text(json.dumps(truth, indent=1) + "\n")
    return rec, gt


def main() -> None:
    from skelzs.assets import ASSETS_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ASSETS_DIR)
    ap.add_argument("--seed", type=int, default=DEMO_SEED)
    args = ap.parse_args()
    rec, gt = make_demo_recording(args.out, args.seed)
    print(f"wrote {rec} ({rec.stat().st_size} bytes) and {gt}")


if __name__ == "__main__":
    main()
