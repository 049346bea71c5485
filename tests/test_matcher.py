"""Matcher: label parsing, scaled softmax top-k, open-set threshold, hysteresis, events."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.errors import SkelzsError
from skelzs.stream.matcher import Matcher, MatcherConfig, parse_labels, softmax


def test_parse_labels_from_string_and_file(tmp_path):
    f = tmp_path / "labels.txt"
    f.write_text("# my labels\nwaving\nfalling  # a comment\n\nwaving\n")
    assert parse_labels(" drinking water ,waving,, ", f) == ["drinking water", "waving", "falling"]
    with pytest.raises(SkelzsError, match="no labels"):
        parse_labels(" , ")
    with pytest.raises(SkelzsError, match="cannot read labels file"):
        parse_labels(None, tmp_path / "missing.txt")


def test_topk_is_the_scaled_softmax_ranking():
    m = Matcher(["a", "b", "c"], MatcherConfig(logit_scale=10.0, threshold=-1.0, smoothing=1.0, top_k=2))
    sims = np.array([0.1, 0.5, 0.3])
    d = m.decide((0, 0), sims)
    p = softmax(10.0 * sims)
    assert d.label == "b" and d.changed
    assert [lab for lab, _ in d.topk] == ["b", "c"]
    assert d.topk[0][1] == pytest.approx(p[1]) and d.score == pytest.approx(p[1])


def test_open_set_threshold_reports_no_action():
    m = Matcher(["a", "b"], MatcherConfig(threshold=0.4, smoothing=1.0))
    d = m.decide((0, 0), np.array([0.2, 0.3]))
    assert d.label is None and d.topk[0][0] == "b"
    d = m.decide((0, 0), np.array([0.2, 0.6]))
    assert d.label == "b" and d.changed


def test_hysteresis_keeps_a_label_through_close_calls():
    cfg = MatcherConfig(logit_scale=10.0, threshold=0.3, margin=0.1, release=0.05, smoothing=1.0)
    m = Matcher(["a", "b"], cfg)
    assert m.decide((0, 0), np.array([0.60, 0.40])).label == "a"
    # b edges ahead by a little: the probability gap stays inside the margin -> still "a"
    d = m.decide((0, 0), np.array([0.50, 0.52]))
    assert d.label == "a" and not d.changed
    # a clear win flips it
    d = m.decide((0, 0), np.array([0.30, 0.70]))
    assert d.label == "b" and d.changed
    # cosine dips just under the threshold but above threshold - release: kept
    d = m.decide((0, 0), np.array([0.10, 0.27]))
    assert d.label == "b"
    d = m.decide((0, 0), np.array([0.10, 0.20]))
    assert d.label is None and d.changed


def test_smoothing_and_confirm_suppress_a_one_window_flicker():
    cfg = MatcherConfig(logit_scale=20.0, threshold=0.0, smoothing=0.5, confirm=2, margin=0.0)
    m = Matcher(["a", "b"], cfg)
    labels = [m.decide((1, 0), np.array(s)).label for s in
              ([0.8, 0.2], [0.8, 0.2], [0.1, 0.9], [0.8, 0.2], [0.8, 0.2])]
    assert labels == ["a"] * 5


def test_events_on_change_and_every_window():
    m = Matcher(["a", "b"], MatcherConfig(threshold=0.0, smoothing=1.0))
    rows = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9]]
    evs = [m.events_for((2, 1), np.array(r), frame=i) for i, r in enumerate(rows)]
    assert [len(e) for e in evs] == [1, 0, 1]
    e = evs[2][0]
    assert (e.source, e.person, e.frame, e.label, e.kind) == (2, 1, 2, "b", "label")
    m2 = Matcher(["a", "b"], MatcherConfig(threshold=0.0, smoothing=1.0, every_window=True))
    kinds = [m2.events_for((0, 0), np.array(r), frame=i)[0].kind for i, r in enumerate(rows)]
    assert kinds == ["label", "window", "label"]


def test_people_are_tracked_separately():
    m = Matcher(["a", "b"], MatcherConfig(threshold=0.0, smoothing=1.0))
    assert m.decide((0, 0), np.array([0.9, 0.1])).label == "a"
    assert m.decide((0, 1), np.array([0.1, 0.9])).label == "b"
    assert m.decide((1, 0), np.array([0.1, 0.9])).label == "b"
