"""The generation commands: ``visketch generate``, ``visketch complete``,
``visketch train tokenizer|diffusion|refiner|judge`` and ``visketch eval generation``.

``register(subparsers)`` adds generate/complete to the main parser; ``train_main`` and
``eval_main`` take the remaining argv. Bad input ends as one line on stderr and exit 1/2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from visketch_core.cli_args import device_arg, positive_int, refuse_overwrite
from visketch_core.errors import ModelError, NoSketchError, SketchError

PROG = "visketch"


def _err(msg: str) -> None:
    print(f"{PROG}: error: {msg}", file=sys.stderr)


def _log(msg: str) -> None:
    # One write per line: ranks of a distributed run share stderr and must not interleave.
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def _free_stem(stem: Path) -> Path:
    """``stem`` when neither its PNG nor its SVG exists yet, else the first free
    ``stem_2``, ``stem_3``, ...: a second run into the same folder never replaces a file."""
    def taken(p: Path) -> bool:
        return p.with_suffix(".png").exists() or p.with_suffix(".svg").exists()

    k, out = 2, stem
    while taken(out):
        out = stem.with_name(f"{stem.name}_{k}")
        k += 1
    return out


def _write(sketch, ink, path_stem: Path) -> None:
    """PNG (dark ink on white, from the raster) and SVG (traced strokes) side by side."""
    import cv2
    import numpy as np

    from visketch_core.sketch.svg import write_svg

    img = np.round(255.0 * (1.0 - np.clip(ink, 0, 1))).astype(np.uint8)
    if not cv2.imwrite(str(path_stem.with_suffix(".png")), img):
        raise SketchError("cannot write the PNG", path=path_stem.with_suffix(".png"))
    if sketch.strokes:
        write_svg(sketch, path_stem.with_suffix(".svg"))
    else:   # nothing was drawn: an empty but valid SVG
        path_stem.with_suffix(".svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" '
            'viewBox="0 0 256 256"><rect width="256" height="256" fill="#ffffff"/></svg>\n')


def _out_dir(path: str) -> Path:
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise SketchError("--out must be a directory", path=d)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _round(t: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in t.items()}


def _load(args: argparse.Namespace):
    """The generator of ``--models`` with ``--drafts`` applied."""
    from dataclasses import replace

    from visketch_core.generate.pipeline import Generator

    gen = Generator.load(args.models, device=args.device, threads=args.threads,
                         stage1=getattr(args, "stage1", "fast"))
    if getattr(args, "drafts", None) is not None:
        gen.sampling = replace(gen.sampling, drafts=int(args.drafts))
    return gen


def cmd_generate(args: argparse.Namespace) -> int:

    gen = _load(args)
    gen.class_index(args.cls)
    out = _out_dir(args.out)
    results = gen.generate(args.cls, args.n, seed=args.seed, schedule=args.schedule,
                           stage1_only=args.stage1_only)
    safe = args.cls.replace("/", "_")
    for i, r in enumerate(results):
        stem = _free_stem(out / f"{safe}-{i}")
        _write(r.sketch, r.ink, stem)
        print(json.dumps({"class": r.label, "index": i, "png": str(stem.with_suffix(".png")),
                          "svg": str(stem.with_suffix(".svg")), "seed": args.seed,
                          "schedule": "stage1" if args.stage1_only else args.schedule,
                          "strokes": len(r.sketch.strokes), **_round(r.timings)}), flush=True)
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    from visketch_core.generate.completion import complete
    from visketch_core.sketch.io import read_sketches

    gen = _load(args)
    if args.cls is not None:
        gen.class_index(args.cls)
    refuse_overwrite(args.out, [args.input])
    out = _out_dir(args.out)
    rec = None
    errors = 0

    def report(err: SketchError) -> None:  # a bad record: one line, the rest still read
        nonlocal errors
        errors += 1
        _err(str(err))

    try:
        for i, sk in enumerate(read_sketches(args.input, on_error=report)):
            try:
                label = args.cls
                if label is None:
                    if rec is None:
                        from visketch_core.inference import Recognizer

                        try:
                            rec = Recognizer.load(device=args.device)
                        except ModelError as exc:
                            raise ModelError(f"{exc}; give the class with --class") from None
                    label = next((n for n, _ in rec.classify(sk, top_k=len(rec.classes)).top
                                  if n in gen.classes), None)
                    if label is None:
                        raise SketchError("the classifier's classes are not generation classes; "
                                          "give --class")
                comps = complete(gen, sk, label, args.n, seed=args.seed + i, schedule=args.schedule)
            except SketchError as exc:
                report(SketchError(exc.message, path=args.input, line=sk.line))
                continue
            for k, c in enumerate(comps):
                stem = _free_stem(out / f"{i}-{k}")
                for suffix in (".png", ".svg"):
                    refuse_overwrite(stem.with_suffix(suffix), [args.input])
                _write(c.sketch, c.ink, stem)
                print(json.dumps({"input": args.input, "index": i, "candidate": k, "class": c.label,
                                  "png": str(stem.with_suffix(".png")),
                                  "svg": str(stem.with_suffix(".svg")),
                                  "ink_unchanged": c.ink_unchanged, **_round(c.timings)}),
                      flush=True)
    except NoSketchError as exc:
        if not errors:  # its bad records, when it had any, said it already
            report(exc)
    except SketchError as exc:  # the file as a whole (a truncated .gz, say)
        report(exc)
    return 1 if errors else 0


def _guard(fn):
    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args) or 0)
        except (SketchError, ModelError) as exc:
            _err(str(exc))
            return 1
    return run


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("-n", type=positive_int, default=1, help="how many sketches (candidates)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default=None, help="folder with tokenizer/diffusion/refiner.pt")
    p.add_argument("--device", type=device_arg, default="auto")
    p.add_argument("--threads", type=positive_int, default=None)
    p.add_argument("--drafts", type=positive_int, default=None,
                   help="stage-1 drafts the recognizer may ask for per sketch (1 = keep the "
                        "first; default: the shipped setting)")
    p.add_argument("--stage1", choices=["guided", "fast"], default="guided",
                   help="guided: the guided stage 1 (diffusion-guided.pt, when the models "
                        "folder has one; slower, recognised more often); fast: the app's "
                        "one-pass stage 1 (diffusion.pt)")


def register(subparsers) -> None:
    """Add ``generate`` and ``complete`` to the main parser's subparsers."""
    g = subparsers.add_parser("generate", help="draw new sketches of a class")
    g.add_argument("cls", metavar="CLASS")
    g.add_argument("--schedule", choices=["sequential", "parallel"], default="sequential")
    g.add_argument("--stage1-only", action="store_true", help="skip the leaf refinement")
    _common(g)
    g.set_defaults(func=_guard(cmd_generate))
    c = subparsers.add_parser("complete", help="complete the sketches of a file")
    c.add_argument("input", metavar="INPUT")
    c.add_argument("--class", dest="cls", default=None, help="default: the classifier's guess")
    c.add_argument("--schedule", choices=["sequential", "parallel"], default="parallel")
    _common(c)
    c.set_defaults(func=_guard(cmd_complete))


# -- train / eval ------------------------------------------------------------------------
def train_parser(what: str) -> argparse.ArgumentParser:
    from visketch_core.paths import default_data_dir, models_dir

    p = argparse.ArgumentParser(prog=f"{PROG} train {what}")
    p.add_argument("--data", default=str(default_data_dir()), help="folder of <class>.ndjson")
    p.add_argument("--out", default=str(models_dir() / f"{what}.pt"))
    p.add_argument("--cache", default="runs/gen/cache")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--minutes", type=float, default=0.0, help="stop after this wall time")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--limit-per-class", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    if what == "tokenizer":
        p.add_argument("--grid", type=int, choices=[4, 8], default=4)
        p.add_argument("--codebook", type=int, default=512)
        p.add_argument("--binary", action="store_true", help="ablation: binary patches")
        p.add_argument("--patches", type=int, default=60000)
        p.add_argument("--init", default=None, help="start from this tokenizer checkpoint")
        p.add_argument("--decoder-only", action="store_true",
                       help="with --init: train only the decoder; every patch keeps its codes, "
                            "so the refiner trained on them stays valid")
        p.add_argument("--extra", default=None, metavar="DIR",
                       help="also the leaf patches of this corpus's train split")
    if what == "diffusion":
        p.add_argument("--base", type=int, default=32)
        p.add_argument("--blocks", type=int, default=1)
        p.add_argument("--copies", type=int, default=3)
        p.add_argument("--conditioned", action="store_true",
                       help="also learn completion: the partial sketch as 2 input planes")
        p.add_argument("--init", default=None, help="start from this diffusion checkpoint")
        p.add_argument("--resume", action="store_true",
                       help="continue from OUT.state (written with every checkpoint)")
        p.add_argument("--warmup", type=int, default=200)
        p.add_argument("--shift", type=int, default=0,
                       help="move (part, whole) pairs together by up to N coarse pixels")
        p.add_argument("--distil", type=float, default=0.0, metavar="W",
                       help="guidance distillation: learn the --init model's output guided "
                            "with weight W in one pass (sample it with guidance 1)")
        p.add_argument("--student", default=None,
                       help="with --distil: start the student from this checkpoint (a "
                            "student of an earlier teacher) instead of from the teacher")
        p.add_argument("--ema", type=float, default=0.999)
        p.add_argument("--extra", default=None, metavar="DIR",
                       help="another corpus (for example simplified-344x25) whose other "
                            "classes fill --extra-share of each batch as null-class samples")
        p.add_argument("--extra-share", type=float, default=0.3)
        p.add_argument("--extra-copies", type=int, default=1)
    if what == "judge":
        p.add_argument("--wide", default=None, metavar="DIR",
                       help="the wide judge: also every other class of DIR (for example "
                            "simplified-344x25)")
        p.add_argument("--no-balance", action="store_true",
                       help="every training sketch in every epoch, instead of at most the "
                            "median class size of each class (the wide judge divides the "
                            "prior out either way)")
        p.add_argument("--device", type=device_arg, default="cpu",
                       help="where to train: cpu (default), cuda, mps or auto")
    if what == "refiner":
        p.add_argument("--tokenizer", default=str(models_dir() / "tokenizer.pt"))
        p.add_argument("--dim", type=int, default=96)
        p.add_argument("--leaves", type=int, default=8)
        p.add_argument("--workers", type=int, default=0, help="data loader processes")
        p.add_argument("--copies", type=int, default=3)
        p.add_argument("--init", default=None, help="start from this refiner checkpoint")
        p.add_argument("--resume", action="store_true",
                       help="continue from OUT.state (written with every checkpoint)")
        p.add_argument("--warmup", type=int, default=200)
    return p


def train_main(what: str, argv: list[str]) -> int:
    """``visketch train tokenizer|diffusion|refiner|judge ...`` -> exit code."""
    import torch

    from visketch_core.train.loop import TrainConfig

    if what not in ("tokenizer", "diffusion", "refiner", "judge"):
        _err(f"cannot train {what!r} here")
        return 2
    a = train_parser(what).parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)

    def tc(**defaults) -> TrainConfig:
        over = {"max_steps": a.steps, "epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr}
        return TrainConfig(**{**defaults, **{k: v for k, v in over.items() if v is not None},
                              "seed": a.seed})

    try:
        if what == "tokenizer":
            from visketch_core.models.vqvae import VQVAEConfig
            from visketch_core.train.tokenizer import train_tokenizer

            _, m = train_tokenizer(a.data, a.out, cfg=VQVAEConfig(grid=a.grid, codebook=a.codebook,
                                                                  binary=a.binary),
                                   train_cfg=tc(batch_size=128, lr=2e-3, warmup_steps=200,
                                                max_steps=6000, weight_decay=0.0),
                                   max_patches=a.patches, cache_dir=a.cache, minutes=a.minutes,
                                   limit_per_class=a.limit_per_class, init=a.init,
                                   decoder_only=a.decoder_only, extra_dir=a.extra, log=_log)
        elif what == "diffusion":
            from visketch_core.models.unet import UNetConfig
            from visketch_core.train.diffusion import train_diffusion

            ucfg = UNetConfig(base=a.base, blocks=a.blocks,
                              cond_channels=2 if a.conditioned else 0)
            _, m = train_diffusion(a.data, a.out, unet_cfg=ucfg,
                                   train_cfg=tc(batch_size=64, lr=1e-3, warmup_steps=a.warmup,
                                                max_steps=4000, weight_decay=0.0),
                                   copies=a.copies, cache_dir=a.cache, minutes=a.minutes,
                                   limit_per_class=a.limit_per_class, init=a.init,
                                   shift=a.shift, resume=a.resume, distil=a.distil,
                                   student=a.student, ema=a.ema, extra_dir=a.extra,
                                   extra_share=a.extra_share, extra_copies=a.extra_copies,
                                   log=_log)
        elif what == "refiner":
            from visketch_core.models.context_encoder import ContextEncoderConfig
            from visketch_core.models.refiner import RefinerConfig
            from visketch_core.train.refiner import train_refiner
            from visketch_core.train.tokenizer import load_tokenizer

            enc = ContextEncoderConfig(dim=a.dim, layers=2, heads=4, stem_width=24, dropout=0.1)
            _, m = train_refiner(a.data, a.out, load_tokenizer(a.tokenizer),
                                 cfg=RefinerConfig(encoder=enc),
                                 train_cfg=tc(epochs=4, batch_size=24, lr=1e-3,
                                              warmup_steps=a.warmup, workers=a.workers,
                                              max_steps=a.steps or 0),
                                 copies=a.copies, leaves=a.leaves, cache_dir=a.cache,
                                 limit_per_class=a.limit_per_class, minutes=a.minutes,
                                 init=a.init, resume=a.resume, log=_log)
        else:
            from visketch_core.models.device import pick_device
            from visketch_core.train.judge import train_judge

            _, m = train_judge(a.data, a.out, train_cfg=tc(epochs=10, batch_size=64, lr=2e-3,
                                                           warmup_steps=100, workers=0,
                                                           balance=not a.no_balance),
                               limit_per_class=a.limit_per_class, wide_dir=a.wide,
                               device=pick_device(a.device), log=_log)
    except (SketchError, ModelError) as exc:
        _err(str(exc))
        return 1
    print(json.dumps(m))
    return 0


def eval_main(argv: list[str]) -> int:
    """``visketch eval generation ...``: the report as JSON on stdout (and --json FILE)."""
    from visketch_core.eval.generation import eval_parser, run_eval

    a = eval_parser(PROG).parse_args(argv)
    try:
        report = run_eval(a, log=_log)
    except (SketchError, ModelError) as exc:
        _err(str(exc))
        return 1
    text = json.dumps(report, indent=2)
    if a.json:
        Path(a.json).write_text(text + "\n")
    print(text)
    return 0
