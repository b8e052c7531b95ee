"""The wait is visible: stage 1's steps reach the canvas as a faint guess, the bar counts
them and then the leaves, and every run starts from zero."""

from __future__ import annotations

import threading

import numpy as np


def run_to_end(qtbot, ctrl):
    qtbot.waitUntil(lambda: not ctrl.running, timeout=10000)


def release(backend) -> None:
    """Let the fake's remaining denoising steps run freely."""
    gate, backend.step_gate = backend.step_gate, None
    if gate is not None:
        gate.set()


def layer_alpha(layer) -> int:
    img = layer.image()
    rgba = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(
        img.height(), -1, 4)
    return int(rgba[..., 3].max())


def test_stage1_steps_stream_to_the_canvas_and_the_bar(qtbot, gen_window, backend):
    backend.step_gate = threading.Event()
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    ctrl.complete_sketch()
    assert bar.value() == 0
    for step in (1, 2):
        backend.step_gate.set()
        qtbot.waitUntil(lambda s=step: bar.value() == s, timeout=3000)
        assert bar.maximum() == backend.steps and "step" in bar.format()
        layer = w.canvas.generation_layer
        assert layer is not None and layer.showing_steps and layer.step == (step, 4)
        assert 0 < layer_alpha(layer) <= 120          # faint: never the ink of a leaf
    release(backend)
    run_to_end(qtbot, ctrl)
    assert "leaves" in bar.format() and bar.value() == bar.maximum() == 6
    assert not w.canvas.generation_layer.showing_steps


def test_a_second_draft_counts_on_and_says_so(qtbot, gen_window, backend):
    backend.step_gate = threading.Event()
    backend.drafts = 2
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    ctrl.complete_sketch()
    for step in range(1, backend.steps + 1):
        backend.step_gate.set()
        qtbot.waitUntil(lambda s=step: bar.value() == s, timeout=3000)
    assert "draft" not in bar.format()
    backend.step_gate.set()                       # a redraw counts its own steps
    qtbot.waitUntil(lambda: "(draft 2" in bar.format(), timeout=3000)
    assert bar.value() == 1 and bar.maximum() == backend.steps
    release(backend)
    run_to_end(qtbot, ctrl)
    assert "leaves" in bar.format() and "draft" not in bar.format()


def test_every_run_starts_from_zero(qtbot, gen_window, backend):
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    assert bar.value() == 6
    backend.step_gate = threading.Event()     # hold the next run before its first step
    ctrl.complete_sketch()
    assert bar.value() == 0 and "leaves" not in bar.format()
    backend.step_gate.set()
    qtbot.waitUntil(lambda: bar.value() == 1 and "step" in bar.format(), timeout=3000)
    ctrl.cancel()
    release(backend)


def test_cancel_during_stage1_clears_the_guess(qtbot, gen_window, backend):
    backend.step_gate = threading.Event()
    w = gen_window()
    ctrl = w.generation
    ctrl.complete_sketch()
    backend.step_gate.set()
    qtbot.waitUntil(lambda: w.generation_panel.bar.value() == 1, timeout=3000)
    ctrl.cancel()
    release(backend)
    qtbot.wait(100)
    assert w.canvas.generation_layer is None and ctrl.candidates == []
    assert w.generation_panel.bar.value() == 0


def test_the_bar_never_shows_one_range_under_the_other_words(qtbot, gen_window, backend):
    """QProgressBar repaints as soon as its value changes: the words must already match."""
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    seen = []
    bar.valueChanged.connect(lambda v: seen.append((v, bar.maximum(), bar.format())))
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    assert any("refining" in f for _, _, f in seen) and any("sketching" in f for _, _, f in seen)
    for v, m, f in seen:
        if "sketching" in f:
            assert m == backend.steps, (v, m, f)
        if "refining" in f:
            assert m == backend.leaves, (v, m, f)


def test_each_candidate_is_sketched_then_refined_in_turn(qtbot, gen_window, backend):
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    w.generation_panel.count_box.setValue(2)
    seen = []
    bar.valueChanged.connect(lambda v: seen.append(bar.format()))
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    phases = []
    for f in seen:
        name = ("sketching" if "sketching" in f else "refining") + f.split("candidate")[-1]
        if not phases or phases[-1] != name:
            phases.append(name)
    assert phases == ["sketching 1 / 2", "refining 1 / 2", "sketching 2 / 2", "refining 2 / 2"]


def test_reseeding_makes_the_next_jobs_seeds_repeat(qtbot, gen_window, backend):
    w = gen_window()
    ctrl = w.generation
    seeds = []
    for _ in range(2):
        ctrl.reseed(41)
        for _ in range(2):
            ctrl.complete_sketch()
            run_to_end(qtbot, ctrl)
            seeds.append(backend.jobs[-1].seed)
            ctrl.reject()
    assert seeds == [42, 43, 42, 43]


def test_steps_faster_than_the_frame_rate_are_shown_coalesced(qtbot, gen_window, backend,
                                                               monkeypatch):
    """Denoising steps that arrive within STEP_FRAME_S of the last one shown are not all
    painted (each paint holds the interpreter the denoiser needs): the first and the
    draft's last are, the newest pending one is when the frame is due."""
    from app import gen_layer

    shown: list[int] = []
    set_step = gen_layer.GenerationLayer.set_step

    def spy(layer, step, total, x0):
        shown.append(int(step))
        set_step(layer, step, total, x0)
    monkeypatch.setattr(gen_layer.GenerationLayer, "set_step", spy)
    backend.steps = 30
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    ctrl.complete_sketch()
    run_to_end(qtbot, ctrl)
    assert shown[0] == 1 and shown[-1] == 30
    assert len(shown) <= 10 and shown == sorted(shown)
    assert bar.value() == bar.maximum() == 6


def test_a_step_held_back_is_shown_when_its_frame_is_due(qtbot, gen_window, backend):
    from app.gen_controller import STEP_FRAME_S

    backend.step_gate = threading.Event()
    backend.steps = 10
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    ctrl.complete_sketch()
    backend.step_gate.set()
    qtbot.waitUntil(lambda: bar.value() == 1, timeout=3000)
    backend.step_gate.set()                        # step 2 follows at once: held back ...
    qtbot.waitUntil(lambda: bar.value() == 2, timeout=int(STEP_FRAME_S * 1000) + 3000)
    assert w.canvas.generation_layer.step == (2, 10)   # ... and then shown
    ctrl.cancel()
    release(backend)


def test_a_burst_of_leaves_is_shown_in_one_update(qtbot, gen_window, backend):
    """A parallel batch arrives at once: one repaint of the bar and canvas, not one a leaf
    (each repaint costs milliseconds of the event loop)."""
    import time

    backend.leaf_ms = 0.0
    w = gen_window()
    ctrl, bar = w.generation, w.generation_panel.bar
    seen = []
    bar.valueChanged.connect(lambda v: seen.append((v, bar.format())))
    ctrl.complete_sketch()
    time.sleep(0.5)         # the worker emits every event while the GUI thread is busy
    run_to_end(qtbot, ctrl)
    refining = [v for v, f in seen if "refining" in f]
    assert refining and refining[-1] == backend.leaves
    assert len(refining) <= 2, refining       # 0 when stage 1 is done, then all the leaves
    assert ctrl.candidates[0].layer.leaf_count == backend.leaves
