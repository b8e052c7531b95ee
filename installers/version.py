"""The app's version, read from ``pyproject.toml`` (its only home).

``python installers/version.py`` prints it; the spec and the per-OS scripts all ask here.
"""

from __future__ import annotations

import re
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def project_version(pyproject: Path = PYPROJECT) -> str:
    """``[project] version`` of ``pyproject``, e.g. ``"0.1.0"``."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # 3.10
        return version_from_text(text)
    return str(tomllib.loads(text)["project"]["version"])


def version_from_text(text: str) -> str:
    """The same without a TOML parser: ``version = "..."`` in the ``[project]`` table."""
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = section and re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not found:
        raise SystemExit("pyproject.toml: no [project] version")
    return found.group(1)


def windows_file_version(version: str) -> tuple[int, int, int, int]:
    """Windows wants four integers: ``"1.2.3rc1"`` -> ``(1, 2, 3, 0)``."""
    nums = [int(m) for m in re.findall(r"\d+", version.split("+")[0])[:3]]
    return tuple((nums + [0, 0, 0, 0])[:4])  # type: ignore[return-value]


if __name__ == "__main__":
    print(project_version())
