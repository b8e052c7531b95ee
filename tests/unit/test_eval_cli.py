"""`visketch eval classifier` on each split of a small 15-class folder, shipped weights."""

import json
from pathlib import Path

import pytest

from visketch_core.cli import main
from visketch_core.sketch.quickdraw import iter_ndjson, write_ndjson


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory, quickdraw_dir) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("eval15")
    total = 0
    for f in sorted(Path(quickdraw_dir).glob("*.ndjson")):
        sks = []
        for sk in iter_ndjson(f):
            sks.append(sk)
            if len(sks) >= 12:
                break
        write_ndjson(sks, out / f.name, word=f.stem)
        total += len(sks)
    return out, total


def test_eval_splits_partition_the_folder(small_folder, capsys):
    folder, total = small_folder
    sizes = {}
    for split in ("train", "val", "test"):
        assert main(["eval", "classifier", "--data", str(folder), "--split", split]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["split"] == split
        assert 0.0 <= report["top1"] <= report["top3"] <= 1.0
        sizes[split] = report["n"]
    assert sum(sizes.values()) == total
    assert sizes["train"] > sizes["val"] and sizes["train"] > sizes["test"]


def test_eval_missing_class_is_one_line(tmp_path, small_folder, capsys):
    folder, _ = small_folder
    (tmp_path / "cat.ndjson").write_bytes((folder / "cat.ndjson").read_bytes())
    assert main(["eval", "classifier", "--data", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no file" in err[0]
