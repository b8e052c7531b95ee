"""Fast checks of installers/: version, icons, the bundle's damage check, Linux desktop files."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest
from installer_helpers import INSTALLERS, ROOT, load_installer_module

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


# -- version: one home, pyproject.toml --------------------------------------------------------
def test_version_comes_from_pyproject():
    import tomllib

    version = load_installer_module("version")
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version.project_version() == expected
    # the Python 3.10 path finds the same line
    assert version.version_from_text((ROOT / "pyproject.toml").read_text()) == expected


def test_version_fallback_reads_only_the_project_table():
    version = load_installer_module("version")
    text = '[tool.x]\nversion = "9.9"\n[project]\nname = "a"\nversion = "1.2.3"\n[b]\n'
    assert version.version_from_text(text) == "1.2.3"
    with pytest.raises(SystemExit):
        version.version_from_text('[tool.x]\nversion = "9.9"\n')


@pytest.mark.parametrize("text, expected", [("0.1.0", (0, 1, 0, 0)), ("2.0", (2, 0, 0, 0)),
                                            ("1.2.3rc1", (1, 2, 3, 0)),
                                            ("1.2.3+local.7", (1, 2, 3, 0))])
def test_windows_file_version(text, expected):
    assert load_installer_module("version").windows_file_version(text) == expected


def test_app_version_matches_pyproject():
    """`--version` of the entry point (unfrozen: the core's __version__) = pyproject's."""
    out = subprocess.run([sys.executable, str(INSTALLERS / "visketch_bundle.py"), "--version"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"ViSketch {load_installer_module('version').project_version()}"


# -- icons --------------------------------------------------------------------------------------
def test_shipped_icon_is_a_square_rgba_png():
    data = (ROOT / "resources" / "icons" / "visketch.png").read_bytes()
    assert png_size(data) == (512, 512)
    assert data[25] == 6  # colour type 6: RGBA (transparent corners)


def test_ico_holds_every_size_as_png(tmp_path):
    icons = load_installer_module("icons")
    out = tmp_path / "v.ico"
    icons.write_ico(out)
    data = out.read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    for i, size in enumerate(icons.ICO_SIZES):
        w, h, _, _, planes, bpp, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i: 22 + 16 * i])
        assert (w, h) == (size % 256, size % 256) and (planes, bpp) == (1, 32)
        assert png_size(data[offset: offset + length]) == (size, size)
    assert offset + length == len(data)


def test_icns_holds_every_size_as_png(tmp_path):
    icons = load_installer_module("icons")
    out = tmp_path / "v.icns"
    icons.write_icns(out)
    data = out.read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    seen, pos = {}, 8
    while pos < len(data):
        kind, length = data[pos: pos + 4], struct.unpack(">I", data[pos + 4: pos + 8])[0]
        seen[kind] = png_size(data[pos + 8: pos + length])
        pos += length
    assert pos == len(data)
    assert seen == {kind: (n, n) for n, kind in icons.ICNS_TYPES.items()}


# -- the bundle's damage check -------------------------------------------------------------------
@pytest.fixture()
def fake_resources(tmp_path):
    """A resources/ folder with a model, an icon and a manifest, as the spec writes them."""
    bundle = load_installer_module("visketch_bundle")
    res = tmp_path / "resources"
    (res / "models").mkdir(parents=True)
    (res / "icons").mkdir()
    (res / "models" / "classifier.pt").write_bytes(b"weights" * 100)
    (res / "icons" / "visketch.png").write_bytes(PNG_MAGIC + b"x" * 30)
    files = {p.relative_to(res).as_posix(): {"size": p.stat().st_size,
                                             "sha256": bundle.sha256_of(p)}
             for p in res.rglob("*") if p.is_file()}
    (res / "MANIFEST.json").write_text(json.dumps({"version": "0.1.0", "files": files}))
    return res


def test_intact_bundle_has_no_problems(fake_resources):
    bundle = load_installer_module("visketch_bundle")
    assert bundle.bundle_problems(fake_resources) == []
    assert bundle.bundle_problems(fake_resources, deep=True) == []


def test_missing_model_is_named(fake_resources):
    bundle = load_installer_module("visketch_bundle")
    (fake_resources / "models" / "classifier.pt").unlink()
    problems = bundle.bundle_problems(fake_resources)
    assert problems == ["models/classifier.pt is missing"]
    message = bundle.damage_message(problems, fake_resources)
    assert "damaged" in message and "models/classifier.pt" in message
    assert "reinstall" in message


def test_truncated_model_is_damaged(fake_resources):
    bundle = load_installer_module("visketch_bundle")
    model = fake_resources / "models" / "classifier.pt"
    model.write_bytes(model.read_bytes()[:100])
    assert bundle.bundle_problems(fake_resources) == [
        "models/classifier.pt is damaged (100 bytes, expected 700)"]


def test_changed_bytes_are_found_only_by_the_deep_check(fake_resources):
    bundle = load_installer_module("visketch_bundle")
    model = fake_resources / "models" / "classifier.pt"
    model.write_bytes(b"W" + model.read_bytes()[1:])  # same size
    assert bundle.bundle_problems(fake_resources) == []  # start-up: sizes only
    assert bundle.bundle_problems(fake_resources, deep=True) == [
        "models/classifier.pt is damaged (its checksum differs)"]


def test_missing_or_bad_manifest(fake_resources):
    bundle = load_installer_module("visketch_bundle")
    (fake_resources / "MANIFEST.json").write_text("{not json")
    assert bundle.bundle_problems(fake_resources) == [
        f"{fake_resources / 'MANIFEST.json'} is unreadable"]
    (fake_resources / "MANIFEST.json").unlink()
    assert "is missing" in bundle.bundle_problems(fake_resources)[0]


def test_check_bundle_command_exits_3_when_damaged(fake_resources):
    (fake_resources / "models" / "classifier.pt").unlink()
    env = {**os.environ, "VISKETCH_RESOURCES": str(fake_resources)}
    out = subprocess.run([sys.executable, str(INSTALLERS / "visketch_bundle.py"),
                          "--check-bundle"], capture_output=True, text=True, env=env,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 3
    assert "models/classifier.pt is missing" in out.stderr


# -- what goes into the bundle ----------------------------------------------------------------
def test_spec_is_valid_python_and_names_the_entry_point():
    text = (INSTALLERS / "visketch.spec").read_text()
    compile(text, "visketch.spec", "exec")
    assert "visketch_bundle.py" in text and "MANIFEST.json" in text


def test_notice_credits_quickdraw():
    text = (INSTALLERS / "NOTICE.txt").read_text()
    assert "Quick, Draw!" in text and "CC BY 4.0" in text


def test_sample_sketches_read(tmp_path):
    from visketch_core.sketch.io import read_sketches

    samples = sorted((ROOT / "resources" / "samples").glob("*.ndjson"))
    assert samples
    sketches = list(read_sketches(samples[0]))
    assert len(sketches) == 3 and all(not sk.is_empty for sk in sketches)


def test_makefile_dist_target_builds_the_linux_bundle():
    text = (ROOT / "Makefile").read_text()
    assert "\ndist: install\n" in text and "installers/linux/build.sh" in text


# -- Linux desktop integration -----------------------------------------------------------------
def test_desktop_file_has_the_required_keys():
    lines = (INSTALLERS / "linux" / "visketch.desktop").read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    keys = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert keys["Type"] == "Application" and keys["Name"] == "ViSketch"
    assert keys["Icon"] == "visketch" and keys["Exec"].startswith("visketch")
    assert keys["Categories"].endswith(";")


@pytest.mark.skipif(sys.platform != "linux", reason="a Linux install script")
def test_install_script_installs_for_the_user_and_uninstalls(tmp_path):
    app = tmp_path / "unpacked" / "ViSketch"
    app.mkdir(parents=True)
    (app / "visketch").write_text("#!/bin/sh\necho hello\n")
    (app / "visketch").chmod(0o755)
    (app / "visketch.png").write_bytes(PNG_MAGIC)
    (app / "visketch.desktop").write_text(
        (INSTALLERS / "linux" / "visketch.desktop").read_text())
    (app / "install.sh").write_text((INSTALLERS / "linux" / "install.sh").read_text())
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    subprocess.run(["bash", str(app / "install.sh")], check=True, env=env, timeout=60,
                   capture_output=True)
    dest = home / ".local" / "opt" / "ViSketch"
    desktop = home / ".local" / "share" / "applications" / "visketch.desktop"
    assert (dest / "visketch").is_file()
    assert f'Exec="{dest}/visketch" %f' in desktop.read_text()
    assert (home / ".local/share/icons/hicolor/512x512/apps/visketch.png").is_file()
    launcher = home / ".local" / "bin" / "visketch"
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout == "hello\n"
    subprocess.run(["bash", str(dest / "install.sh"), "--uninstall"], check=True, env=env,
                   timeout=60, capture_output=True)
    assert not dest.exists() and not desktop.exists() and not launcher.exists()
