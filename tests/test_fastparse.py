"""The NTU reader's two tokenizers (C extension ``skelzs.stream._fastparse`` and the numpy
fallback) give the same values, bit for bit equal to ``float()``, the same layouts and the
same errors; the vectorized layout check agrees with the line-by-line walk."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from skelzs.stream import ntu
from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.ntu import read_ntu_skeleton

needs_c = pytest.mark.skipif(ntu._fastparse is None, reason="C extension not built (no compiler at install)")


@pytest.fixture(params=["c", "numpy"])
def tokenizer(request, monkeypatch):
    """Run the test once with the C tokenizer and once with the numpy fallback."""
    if request.param == "c" and ntu._fastparse is None:
        pytest.skip("C extension not built (no compiler at install)")
    monkeypatch.setattr(ntu, "USE_FASTPARSE", request.param == "c")
    assert ntu.tokenizer_name() == ("C extension" if request.param == "c" else "numpy")
    return request.param


def _bits(a) -> bytes:
    return np.asarray(a, np.float64).tobytes()


def _random_numbers(rng: np.random.Generator, n: int) -> list[bytes]:
    """Decimal spellings of every kind the format (and float()) allows."""
    out = []
    for _ in range(n):
        kind = int(rng.integers(0, 6))
        sign = [b"", b"-", b"+"][int(rng.integers(0, 3))]
        if kind == 0:     # NTU joint values: a few integer digits, up to 9 decimals
            s = b"%d.%s" % (rng.integers(0, 2000), b"".join(b"%d" % d for d in rng.integers(0, 10, int(rng.integers(1, 10)))))
        elif kind == 1:   # exponents, as in 8.157031E-05
            s = b"%.*f%s%+03d" % (int(rng.integers(0, 8)), rng.random() * 10, b"eE"[int(rng.integers(0, 2)):][:1], rng.integers(-30, 30))
        elif kind == 2:   # 64-bit body ids and other long integers
            s = b"%d" % int(rng.integers(0, 2**63 - 1, dtype=np.int64))
        elif kind == 3:   # long mantissas (beyond the exact fast path), leading zeros
            s = b"0" * int(rng.integers(0, 3)) + b"".join(b"%d" % d for d in rng.integers(0, 10, int(rng.integers(15, 26)))) \
                + b"." + b"%d" % rng.integers(0, 10**6)
        elif kind == 4:   # shortest repr of random doubles, incl. subnormal and huge ones
            s = repr(float(rng.standard_normal() * 10.0 ** int(rng.integers(-320, 300)))).encode()
        else:             # odd but valid spellings
            s = [b"0", b"0.0", b".5", b"5.", b"00012.5000", b"1e0", b"0e999", b"1e-400", b"9007199254740993",
                 b"0.1", b"123456789012345678", b"1.7976931348623157e308"][int(rng.integers(0, 12))]
        out.append(sign + s if not s.startswith(b"-") else s)
    return out


def test_values_bit_identical_to_float(tokenizer):
    rng = np.random.default_rng(2)
    toks = _random_numbers(rng, 4000)
    lines = [b" ".join(toks[i:i + 7]) for i in range(0, len(toks), 7)]
    data = b"\r\n".join(lines[:300]) + b"\n" + b"\n".join(lines[300:])
    tok = ntu._tokens(data, "x")
    assert tok.values.tobytes() == _bits([float(t) for t in toks])
    ref = ntu._slow_tokens(data, "x")
    np.testing.assert_array_equal(tok.line_ntok, ref.line_ntok)
    np.testing.assert_array_equal(tok.line_start, ref.line_start)
    if tokenizer == "c":   # each line's leading plain integer (below 2^63), else -1
        heads = [ln.split()[0] for ln in data.split(b"\n")]
        want = [int(h) if h.isdigit() and int(h) < 2**63 else -1 for h in heads]
        np.testing.assert_array_equal(tok.line_int, want)


@needs_c
@pytest.mark.parametrize("token", [b"nan", b"inf", b"-inf", b"1e999", b"-1e400", b"1.5x", b"--1", b"+", b".",
                                   b"e5", b"1e", b"1e+", b"0x10", b"1,5", b"\x00", b"1_0", b"\xff", b"1\x0b2"])
def test_c_rejects_and_names_the_line(token):
    data = b"1 2 3\r\n4 " + token + b" 6\r\n7\n"
    assert ntu._fastparse.tokenize(data)[-1] == 1
    try:
        ref = ntu._slow_tokens(data, "x")
    except SkeletonFormatError as err:   # the line the slow path names, with the same message
        with pytest.raises(SkeletonFormatError) as exc:
            ntu._tokens(data, "x")
        assert (exc.value.line, exc.value.reason) == (err.line, err.reason) == (2, err.reason)
    else:                                # spellings only float() knows: whole file goes the slow way
        assert token == b"1_0"
        np.testing.assert_array_equal(ntu._tokens(data, "x").values, ref.values)


@needs_c
def test_c_tokenizer_matches_slow_path_on_mutations(ntu_dir):
    """Differential fuzz: where C accepts bytes, it equals float() per value; where it rejects
    them, reading names exactly the error (line and reason) of the line-by-line path."""
    lines = (ntu_dir / "S001C001P001R001A003.skeleton").read_bytes().split(b"\n")  # has E-05 exponents
    small = b"\n".join([b"4"] + lines[1:1 + 4 * 28]) + b"\n"
    rng = np.random.default_rng(11)
    alphabet = b"0123456789.-+eE \n\r\tx\x00"
    accepted = 0
    for _ in range(300):
        d = bytearray(small)
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, len(d)))
            d[i:i + int(rng.integers(0, 3))] = bytes(alphabet[int(j)] for j in rng.integers(0, len(alphabet), int(rng.integers(0, 4))))
        d = bytes(d)
        try:
            slow = ntu._slow_tokens(d, "x")
        except SkeletonFormatError as err:
            with pytest.raises(SkeletonFormatError) as exc:
                ntu._c_tokens(d, "x")
            assert (exc.value.line, exc.value.reason) == (err.line, err.reason)
            continue
        fast = ntu._c_tokens(d, "x")
        assert fast is not None
        accepted += 1
        assert fast.values.tobytes() == slow.values.tobytes()
        np.testing.assert_array_equal(fast.line_ntok, slow.line_ntok)
        np.testing.assert_array_equal(fast.line_start, slow.line_start)
    assert accepted > 50


def test_both_tokenizers_read_the_real_files_identically(ntu_dir, monkeypatch):
    got = {}
    for name in ("c", "numpy"):
        if name == "c" and ntu._fastparse is None:
            continue
        monkeypatch.setattr(ntu, "USE_FASTPARSE", name == "c")
        got[name] = [read_ntu_skeleton(p) for p in sorted(ntu_dir.glob("*.skeleton"))]
    for files in zip(*got.values()):
        for f in files[1:]:
            for field in ("values", "body_info", "body_ids", "present", "bodies_per_frame"):
                assert getattr(f, field).tobytes() == getattr(files[0], field).tobytes(), field


def _corruptions(data: bytes):
    """Byte strings of broken files: the cases of test_ntu.py and structural edits."""
    lines = data.split(b"\n")
    def put(i, text):
        m = list(lines)
        m[i] = text
        return b"\n".join(m)
    yield put(40, b" ".join(lines[40].split()[:1] + [b"nan"] + lines[40].split()[2:]))
    yield put(10, b"hello world")
    yield put(1, b"1.5")
    yield put(1, b"+1")
    yield put(0, b"-3")
    yield put(3, b"24")
    yield put(3, b"25.0")
    yield put(2, b" ".join(lines[2].split()[:9]))
    yield put(2, b"-5 " + b" ".join(lines[2].split()[1:]))       # bodyID not an integer
    yield put(30, lines[30] + b" 0")
    yield put(8, b" ".join(lines[8].split()[:-1] + [b"3"]))
    yield b"\n".join(lines[:500])                                # truncated
    yield b"\n".join(lines[:29] + lines[30:])                    # a joint line missing
    yield b"\n".join(lines[:29] + [lines[29]] + lines[29:])      # a joint line doubled
    yield b"\n".join(lines[:2] + lines[29:])                     # a body record missing
    yield data + b"1\n"                                          # trailing data
    yield data[:5000] + b"\x00\xff" + data[5000:]                # binary bytes


def test_same_errors_on_both_paths(ntu_dir, tmp_path, monkeypatch):
    data = (ntu_dir / "S001C001P001R001A005.skeleton").read_bytes()
    p = tmp_path / "bad.skeleton"
    for bad in _corruptions(data):
        p.write_bytes(bad)
        seen = set()
        for name in ("c", "numpy"):
            if name == "c" and ntu._fastparse is None:
                continue
            monkeypatch.setattr(ntu, "USE_FASTPARSE", name == "c")
            with pytest.raises(SkeletonFormatError) as exc:
                read_ntu_skeleton(p)
            seen.add((exc.value.line, exc.value.reason))
        assert len(seen) == 1, seen


def test_vectorized_layout_agrees_with_the_walk(ntu_dir, tokenizer):
    """On valid files both give the same layout; on broken ones the vectorized check declines."""
    rng = np.random.default_rng(5)
    src = (ntu_dir / "S001C003P008R002A058.skeleton").read_bytes()   # two bodies per frame
    lines = src.split(b"\r\n")
    cases = [src, src + b"\r\n\r\n", b"0\n", b"2\n0\n0\n"]
    for _ in range(60):   # structural edits: drop, duplicate or swap lines; change counts
        m = list(lines[: 1 + 6 * 55])
        m[0] = b"6"
        i, j = (int(x) for x in rng.integers(0, len(m), 2))
        op = int(rng.integers(0, 4))
        if op == 0:
            del m[i]
        elif op == 1:
            m.insert(i, m[j])
        elif op == 2:
            m[i], m[j] = m[j], m[i]
        else:
            m[i] = b"%d" % rng.integers(0, 30)
        cases.append(b"\r\n".join(m) + b"\r\n")
    valid = 0
    for d in cases:
        tok = ntu._tokens(d, "x")
        fast = ntu._layout_vectorized(tok)
        try:
            walk = ntu._layout_walk(d, tok, "x")
        except SkeletonFormatError:
            assert fast is None
            continue
        valid += 1
        if tokenizer == "numpy":
            assert fast is None          # needs the C tokenizer's leading integers
            continue
        assert fast is not None and fast.num_frames == walk.num_frames
        for field in ("bodies_per_frame", "info_lines", "body_frame", "body_order"):
            np.testing.assert_array_equal(getattr(fast, field), getattr(walk, field))
    assert valid >= 4


def test_env_switch_selects_numpy():
    env = dict(os.environ, SKELZS_NO_FASTPARSE="1")
    r = subprocess.run([sys.executable, "-c", "from skelzs.stream import ntu; print(ntu.tokenizer_name())"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "numpy"
