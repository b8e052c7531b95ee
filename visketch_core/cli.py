"""`visketch ...`: the command line (a stable contract; see docs/cli.md).

Errors are one line on stderr and a non-zero exit, never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from visketch_core.cli_args import (
    OneLineParser,
    device_arg,
    index_int,
    positive_int,
    refuse_overwrite,
)
from visketch_core.errors import ModelError, NoSketchError, SketchError

PROG = "visketch"


def _err(msg: str) -> None:
    print(f"{PROG}: error: {msg}", file=sys.stderr)


def _log_line(msg: str) -> None:
    # One write per line: ranks of a distributed run share stderr and must not interleave.
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class _Errors:
    """Collects per-sketch input errors: prints each as one line, remembers there were some."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, err: Exception) -> None:
        self.count += 1
        _err(str(err))


def _iter_inputs(paths: list[str], errors: _Errors):
    """(path, index, sketch) for every good sketch of every input, in order. A bad record
    or a bad file is one line through ``errors``, and the next input is still read."""
    from visketch_core.sketch.io import read_sketches

    for p in paths:
        before = errors.count
        try:
            for i, sk in enumerate(read_sketches(p, on_error=errors)):
                yield p, i, sk
        except NoSketchError as exc:
            if errors.count == before:  # its bad records, when it had any, said it already
                errors(exc)
        except SketchError as exc:
            errors(exc)


def _sketch_error(sk, path: str, exc: SketchError) -> SketchError:
    """An error about one sketch, as FILE:LINE (its line, record or index in the file)."""
    return SketchError(exc.message, path=path, line=getattr(sk, "line", None))


# -- commands ---------------------------------------------------------------------------
def app_entry():
    """The desktop app's main(argv), found through the ``visketch.commands`` entry point that
    the app package registers: the core never imports the app (or Qt) itself."""
    from importlib.metadata import entry_points

    found = list(entry_points(group="visketch.commands", name="app"))
    if not found:
        raise ModelError("the desktop app is not installed (pip install visketch)")
    return found[0].load()


def cmd_app(args: argparse.Namespace) -> int:
    return int(app_entry()(list(args.app_args)) or 0)


def cmd_classify(args: argparse.Namespace) -> int:
    from visketch_core.inference import Recognizer

    rec = Recognizer.load(args.model, device=args.device, threads=args.threads)
    errors = _Errors()
    for path, i, sk in _iter_inputs(args.inputs, errors):
        try:
            pred = rec.classify(sk, top_k=args.top)
        except SketchError as exc:
            errors(_sketch_error(sk, path, exc))
            continue
        if args.jsonl:
            print(json.dumps({"input": path, "index": i, "label": pred.known_label,
                              "known": pred.known, "verdict": pred.verdict,
                              "closest": pred.label,
                              "top": [[n, round(p, 6)] for n, p in pred.top],
                              "leaves": int(len(pred.leaf_weights)), "ms": round(pred.ms, 3)}),
                  flush=True)
        else:
            top = ", ".join(f"{n} {p:.2f}" for n, p in pred.top)
            sure = {"sure": "", "unsure": "  (not sure)",
                    "unknown": "  (none of the known classes)"}[pred.verdict]
            print(f"{path}[{i}]: {top}{sure}")
    return 1 if errors.count else 0


def cmd_export(args: argparse.Namespace) -> int:
    from visketch_core.sketch.io import read_sketch, write_sketch
    from visketch_core.sketch.model import normalise

    refuse_overwrite(args.out, [args.input])
    sk = read_sketch(args.input, index=args.index)
    if sk.is_empty:  # the input's fault, so the input is named (the same for every format)
        raise _sketch_error(sk, args.input, SketchError("the sketch is empty: nothing to export"))
    if Path(args.out).suffix.lower() in (".png", ".svg") and sk.strokes and sk.num_points:
        # a picture gets the margin of a normalised sketch, as the app's export does:
        # QuickDraw coordinates fill 0..255 and would otherwise touch the picture's edge
        sk = normalise(sk)
    write_sketch(sk, args.out)
    print(args.out)
    return 0


def cmd_quadtree(args: argparse.Namespace) -> int:
    import cv2

    from visketch_core.geometry import GeometryConfig, build_quadtree, render
    from visketch_core.geometry.draw import draw_quadtree
    from visketch_core.sketch.io import read_sketch
    from visketch_core.sketch.model import normalise

    cfg = GeometryConfig()
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise SketchError("the drawing is written as .png or .jpg; choose one of those names",
                          path=out)
    refuse_overwrite(out, [args.input])
    sk = read_sketch(args.input, index=args.index)
    if sk.is_empty:
        raise _sketch_error(sk, args.input, SketchError("the sketch is empty"))
    ink = render(normalise(sk, cfg.size, cfg.margin), cfg.size, cfg.line_width)
    tree = build_quadtree(ink, cfg)
    img = draw_quadtree(ink, tree)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(out.suffix.lower(), img)
    if not ok:
        raise SketchError("could not encode the image", path=out)
    out.write_bytes(buf.tobytes())
    print(json.dumps({"out": str(out), "leaves": len(tree),
                      "levels": {int(k): int((tree.level == k).sum()) for k in set(tree.level)}}))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import torch

    from visketch_core import __version__
    from visketch_core.models.device import pick_device
    from visketch_core.paths import models_dir

    models = {}
    for f in sorted(models_dir().glob("*.pt")):
        try:
            from visketch_core.models.checkpoint import read_checkpoint

            blob = read_checkpoint(f)
            models[f.name] = {"kind": blob["kind"], "classes": len(blob.get("classes", []))}
        except ModelError as exc:
            models[f.name] = {"error": str(exc)}
    classes = []
    clf = models_dir() / "classifier.pt"
    if clf.exists():
        try:
            from visketch_core.models.checkpoint import read_checkpoint

            classes = read_checkpoint(clf)["classes"]
        except ModelError:
            pass
    print(json.dumps({"version": __version__, "torch": torch.__version__,
                      "device": str(pick_device("auto")), "models_dir": str(models_dir()),
                      "models": models, "classes": classes}, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if args.what != "classifier":
        try:
            from visketch_core.generate.commands import train_main
        except ImportError:
            _err(f"training {args.what!r} is not available in this version")
            return 2
        return int(train_main(args.what, args.rest) or 0)
    args = classifier_train_parser().parse_args(args.rest)
    from visketch_core.models.classifier import ClassifierConfig
    from visketch_core.models.context_encoder import ContextEncoderConfig
    from visketch_core.train.classifier import train_classifier
    from visketch_core.train.loop import TrainConfig

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    enc = ContextEncoderConfig(dim=args.dim, layers=args.layers, heads=args.heads,
                               dropout=args.dropout, use_context=not args.leaf_only,
                               stem=args.stem, stem_width=args.stem_width,
                               embed=args.embed)
    cfg = ClassifierConfig(encoder=enc, pooling=args.pooling, dropout=args.dropout,
                           head=args.head, outlier_weight=args.outlier_weight)
    if args.head == "gap" and args.embed != "pyramid":
        _err("--head gap reads the feature pyramid: use it with --embed pyramid")
        return 2
    tcfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       warmup_steps=args.warmup, seed=args.seed, workers=args.workers,
                       max_steps=args.max_steps)
    from visketch_core.data.augment import RECOGNITION, AugmentConfig

    augment_cfg = RECOGNITION if args.augment == "recognition" else AugmentConfig()
    distill = None
    if args.teacher:
        from visketch_core.train.distill import DistillConfig

        distill = DistillConfig(args.teacher, alpha=args.distill_alpha,
                                temperature=args.distill_temperature)
    best = train_classifier(args.data, args.out, model_cfg=cfg, train_cfg=tcfg,
                            binary=args.binary, resume=args.resume,
                            limit_per_class=args.limit_per_class, device=args.device,
                            cache_dir=args.cache, cache_views=args.cache_views,
                            distill=distill, outliers=args.outliers,
                            augment_cfg=augment_cfg, log=_log_line)
    if os.environ.get("RANK", "0") == "0":  # one result line from a distributed run
        print(json.dumps(best))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.what != "classifier":
        try:
            from visketch_core.generate.commands import eval_main
        except ImportError:
            _err(f"evaluating {args.what!r} is not available in this version")
            return 2
        return int(eval_main(args.rest) or 0)
    v = OneLineParser(prog=f"{PROG} eval classifier")
    v.add_argument("--model", default=None, help="checkpoint (default: the shipped classifier)")
    v.add_argument("--data", default=None, help="folder of <class>.ndjson files")
    v.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="train: unaugmented training sketches, to tell underfitting from "
                        "overfitting")
    v.add_argument("--confusion", default=None, help="write the confusion matrix PNG here")
    v.add_argument("--device", type=device_arg, default="auto")
    args = v.parse_args(args.rest)
    from visketch_core.eval.classifier import evaluate_classifier

    report = evaluate_classifier(args.model, args.data, split=args.split,
                                 confusion_png=args.confusion, device=args.device)
    print(json.dumps(report, indent=2))
    return 0


def cmd_unavailable(args: argparse.Namespace) -> int:
    _err(f"'{args.command}' needs the generation models, which this version does not ship")
    return 2


# -- parser -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from visketch_core import __version__

    p = OneLineParser(prog=PROG, description="ViSketch: sketch recognition and generation")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=OneLineParser)

    a = sub.add_parser("app", help="the desktop app", add_help=False)
    a.add_argument("app_args", nargs=argparse.REMAINDER)
    a.set_defaults(func=cmd_app)

    c = sub.add_parser("classify", help="classify sketches")
    c.add_argument("inputs", nargs="+")
    c.add_argument("--top", type=positive_int, default=5)
    c.add_argument("--jsonl", action="store_true")
    c.add_argument("--model", default=None, help="classifier checkpoint (default: shipped)")
    c.add_argument("--device", type=device_arg, default="auto")
    c.add_argument("--threads", type=positive_int, default=None)
    c.set_defaults(func=cmd_classify)

    e = sub.add_parser("export", help="convert a sketch to PNG or SVG (or ndjson, npz, .visketch)")
    e.add_argument("input")
    e.add_argument("--out", required=True)
    e.add_argument("--index", type=index_int, default=0,
                   help="which sketch of a multi-sketch file")
    e.set_defaults(func=cmd_export)

    q = sub.add_parser("quadtree", help="draw a sketch with its quadtree leaves")
    q.add_argument("input")
    q.add_argument("--out", required=True)
    q.add_argument("--index", type=index_int, default=0)
    q.set_defaults(func=cmd_quadtree)

    i = sub.add_parser("info", help="version, device, models, classes")
    i.set_defaults(func=cmd_info)

    t = sub.add_parser("train", help="train a model (classifier, tokenizer, diffusion, refiner, judge)",
                       add_help=False)
    t.add_argument("what", choices=["classifier", "tokenizer", "diffusion", "refiner", "judge"])
    t.add_argument("rest", nargs=argparse.REMAINDER)
    t.set_defaults(func=cmd_train)

    v = sub.add_parser("eval", help="evaluate a model (classifier, generation)", add_help=False)
    v.add_argument("what", choices=["classifier", "generation"])
    v.add_argument("rest", nargs=argparse.REMAINDER)
    v.set_defaults(func=cmd_eval)

    try:
        from visketch_core.generate.commands import register
    except ImportError:
        for name in ("generate", "complete"):
            g = sub.add_parser(name, help=f"{name} sketches (needs the generation models)")
            g.add_argument("rest", nargs=argparse.REMAINDER)
            g.set_defaults(func=cmd_unavailable)
    else:
        register(sub)
    return p


def classifier_train_parser() -> argparse.ArgumentParser:
    t = OneLineParser(prog=f"{PROG} train classifier")
    t.add_argument("--data", required=True, help="folder of <class>.ndjson files")
    t.add_argument("--out", default="runs/classifier")
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=1.5e-3)
    t.add_argument("--warmup", type=int, default=200)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=1)
    t.add_argument("--max-steps", type=int, default=0)
    t.add_argument("--dim", type=int, default=96)
    t.add_argument("--layers", type=int, default=2)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--pooling", choices=["attention", "mean"], default="attention")
    t.add_argument("--stem", choices=["light", "conv3"], default="light",
                   help="patch stem: two patchifying convs, or three 3x3 stride-2 convs")
    t.add_argument("--stem-width", type=int, default=24)
    t.add_argument("--embed", choices=["patch", "pyramid", "both"], default="patch",
                   help="node embeddings: a stem per node patch, the cells of one CNN "
                        "feature pyramid over the sketch, or both summed")
    t.add_argument("--head", choices=["quadtree", "gap"], default="quadtree",
                   help="quadtree contexts + leaf votes, or global average pooling of the "
                        "pyramid (a plain CNN on the same backbone)")
    t.add_argument("--outliers", default=None,
                   help="folder of other classes' drawings (e.g. simplified-344x25): its "
                        "'train' class group joins training as 'none of these', its 'tune' "
                        "group calibrates the unknown verdict")
    t.add_argument("--outlier-weight", type=float, default=0.5)
    t.add_argument("--augment", choices=["default", "recognition"], default="default",
                   help="recognition: more unfinished drawings and the odd stray line")
    t.add_argument("--leaf-only", action="store_true", help="ablation: no multi-scale context")
    t.add_argument("--binary", action="store_true", help="ablation: binary patches, not SDF")
    t.add_argument("--limit-per-class", type=int, default=None)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--cache", default=None, help="folder for cached preprocessed views")
    t.add_argument("--cache-views", type=int, default=4,
                   help="cached views: the clean sketches + fixed augmentations")
    t.add_argument("--teacher", default=None,
                   help="distil from this CNN checkpoint (kind judge, same classes)")
    t.add_argument("--distill-alpha", type=float, default=0.5,
                   help="share of the teacher's soft labels in the class loss")
    t.add_argument("--distill-temperature", type=float, default=2.0)
    t.add_argument("--device", type=device_arg, default="auto")
    t.add_argument("--threads", type=positive_int, default=None)
    return t


def _one_line_warnings() -> None:
    """A bad record that reaches ``warnings`` (readers called without ``on_error``, as the
    training data loader does) is one line too, not Python's two-line warning format."""
    from visketch_core.sketch.quickdraw import MalformedSketchWarning

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if issubclass(category, MalformedSketchWarning):
            _log_line(f"{PROG}: warning: {message}")
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _one_line_warnings()
    if not argv:
        argv = ["app"]
    if argv[0] == "app":  # the app parses its own flags (argparse's REMAINDER drops leading --x)
        try:
            return int(app_entry()(argv[1:]) or 0)
        except ModelError as exc:
            _err(str(exc))
            return 2
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["app", *argv])
    try:
        return int(args.func(args) or 0)
    except (SketchError, ModelError) as exc:
        _err(str(exc))
        return 2
    except OSError as exc:
        _err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}".lstrip(": "))
        return 2
    except MemoryError:
        _err("out of memory")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug must still cost one line, not a traceback
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        _err(f"internal error ({type(exc).__name__}: {text}); please report it")
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
