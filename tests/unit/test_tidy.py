"""Tidying traced strokes: doubled lines, gaps, stubs, smoothness; filling slits."""

from __future__ import annotations

import cv2
import numpy as np

from visketch_core.eval.realism import stroke_stats
from visketch_core.geometry.simplify import polyline_length
from visketch_core.geometry.tidy import TidyConfig, bridge_gaps, remove_doubles, smooth, tidy
from visketch_core.geometry.vectorise import vectorise
from visketch_core.sketch.model import Sketch


def _line(x0, y0, x1, y1, n=50):
    return np.stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n)], 1).astype(np.float32)


def test_a_doubled_line_is_drawn_once():
    a, b = _line(40, 100, 200, 100), _line(50, 103, 190, 103)
    out = remove_doubles([a, b], TidyConfig())
    assert len(out) == 1 and polyline_length(out[0]) > 150


def test_a_crossing_is_not_a_doubled_line():
    a, b = _line(40, 100, 200, 100), _line(120, 20, 120, 200)
    out = remove_doubles([a, b], TidyConfig())
    assert len(out) == 2
    assert sorted(round(polyline_length(p)) for p in out) == [160, 180]


def test_new_strokes_do_not_retrace_kept_ink():
    keep = np.zeros((256, 256), bool)
    keep[99:102, 40:201] = True                          # the user's line
    retrace, beside = _line(45, 104, 195, 104), _line(45, 160, 195, 160)
    out = tidy(Sketch(strokes=[retrace, beside]), keep=keep)
    assert len(out.strokes) == 1 and abs(float(out.strokes[0][:, 1].mean()) - 160) < 1


def test_keep_double_reaches_farther_from_kept_ink_only():
    keep = np.zeros((256, 256), bool)
    keep[99:102, 40:201] = True                          # the user's line
    echo, own = _line(45, 108, 195, 108), _line(45, 160, 195, 160)   # 7 px below it
    near = _line(45, 20, 195, 20)
    other = _line(45, 27, 195, 27)                       # 7 px from a new stroke
    strokes = [echo, own, near, other]
    assert len(tidy(Sketch(strokes=strokes), keep=keep).strokes) == 4
    wide = TidyConfig(keep_double=8.0)
    out = tidy(Sketch(strokes=strokes), wide, keep=keep)
    assert sorted(round(float(p[:, 1].mean())) for p in out.strokes) == [20, 27, 160]


def test_facing_ends_across_a_gap_are_joined():
    a, b = _line(40, 100, 120, 100), _line(130, 100, 200, 100)
    joined = bridge_gaps([a, b], TidyConfig())
    assert len(joined) == 1 and polyline_length(joined[0]) > 155
    # ends that do not face each other stay apart (a T is not a gap)
    c = _line(125, 108, 125, 200)
    assert len(bridge_gaps([_line(40, 100, 200, 100), c], TidyConfig())) == 2


def test_stubs_go_and_smoothing_keeps_the_ends():
    zig = np.array([[40 + 4 * i, 100 + (3 if i % 2 else -3)] for i in range(41)], np.float32)
    out = tidy(Sketch(strokes=[zig, _line(100, 106, 104, 108, 3)]))
    assert len(out.strokes) == 1                         # the 4 px stub by the line went
    s = out.strokes[0]
    assert np.allclose(s[0], zig[0], atol=0.5) and np.allclose(s[-1], zig[-1], atol=0.5)
    before = stroke_stats([Sketch(strokes=[zig])], normalise_first=False)
    after = stroke_stats([out], normalise_first=False)
    key = next(k for k in before if "turn" in k or "rough" in k)
    assert after[key] < 0.5 * before[key]


def test_a_closed_stroke_stays_closed_when_smoothed():
    t = np.linspace(0, 2 * np.pi, 80)
    ring = np.stack([128 + 50 * np.cos(t), 128 + 50 * np.sin(t)], 1)
    ring[-1] = ring[0]
    sm = smooth(ring, 1.5)
    assert np.allclose(sm[0], sm[-1])
    r = np.hypot(sm[:, 0] - 128, sm[:, 1] - 128)
    assert np.all(np.abs(r - 50) < 1.5)


def test_vectorise_fills_slits_between_two_close_lines():
    ink = np.zeros((256, 256), np.float32)
    cv2.rectangle(ink, (60, 120), (200, 128), 1.0, thickness=3)   # a thin doubled bar
    plain = vectorise(ink)
    filled = vectorise(ink, fill_slits=4.0)
    assert len(plain.strokes) == 1 and len(filled.strokes) == 1
    # the plain trace goes round the slit (twice the bar's length), the filled one along it
    assert polyline_length(plain.strokes[0]) > 250
    assert polyline_length(filled.strokes[0]) < 170
    # a wide hole (a real loop) is kept
    ring = np.zeros((256, 256), np.float32)
    cv2.circle(ring, (128, 128), 40, 1.0, thickness=3)
    assert polyline_length(vectorise(ring, fill_slits=4.0, fill_holes=80).strokes[0]) > 200


def test_a_short_mark_by_a_line_end_is_not_joined_to_it():
    line = _line(40, 100, 120, 100)
    tick = _line(130, 100, 135, 100)                     # a 5 px mark 10 px past the end
    out = bridge_gaps([line, tick], TidyConfig())
    assert len(out) == 2
    assert max(polyline_length(p) for p in out) < 81
    # with dots bridged like any stroke (the old rule) the two became one
    assert len(bridge_gaps([line, tick], TidyConfig(dot_length=0.0))) == 1


def test_an_isolated_dot_stays_but_a_fragment_by_a_line_goes():
    line = _line(40, 100, 200, 100)
    dot = np.array([[120, 160]], np.float32)             # an eye, far from other ink
    frag = _line(100, 104, 104, 106, 3)                  # a stub beside the line
    out = tidy(Sketch(strokes=[line, dot, frag]))
    assert len(out.strokes) == 2
    assert any(len(s) == 1 and np.allclose(s[0], dot[0]) for s in out.strokes)


def test_a_drawn_tick_by_a_line_stays_but_a_shorter_stub_goes():
    line = _line(40, 100, 200, 100)
    tick = _line(150, 103, 150, 110.5, 5)                # 7.5 px, drawn on purpose
    stub = _line(80, 103, 80, 108, 4)                    # 5 px, left by tracing
    out = tidy(Sketch(strokes=[line, tick, stub]))
    lengths = sorted(polyline_length(s) for s in out.strokes)
    assert len(lengths) == 2 and 7.0 <= lengths[0] < 8.0


def test_a_stub_beside_the_users_ink_goes_but_a_dot_apart_from_it_stays():
    """In a completion the user's ink counts as other ink for the fragment rule: a 5 px
    stub 3 px from the user's line is tracing debris, the same stub far from it a dot."""
    keep = np.zeros((256, 256), np.uint8)
    cv2.line(keep, (40, 100), (200, 100), 1, 2)
    stub = _line(80, 103, 80, 108, 4)
    dot = _line(120, 180, 120, 185, 4)
    out = tidy(Sketch(strokes=[stub, dot]), keep=keep > 0)
    assert len(out.strokes) == 1 and float(out.strokes[0][:, 1].min()) > 170
    alone = tidy(Sketch(strokes=[stub, dot]))
    assert len(alone.strokes) == 2
