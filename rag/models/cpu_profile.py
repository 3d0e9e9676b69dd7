"""The AVX2-only profile (``NABAA_CPU_ISA=avx2``): on a machine with AVX-512 or AMX, run as
an AVX2-only laptop would, so a developer measures what those users get.

llama.cpp comes from its AVX2 build (``scripts/setup.sh --isa avx2`` puts it in
``.venv/isa-avx2``); OpenVINO, oneDNN, torch and MKL are capped to AVX2 by their own
variables. Applied when the package is imported, before any of them loads. One gap: MLAS,
which OpenVINO uses for some float32 matrix products, ignores the caps.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROFILES = ("native", "avx2")
CAPS = {
    "OV_CPU_MAX_ISA": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
}
_ROOT = Path(__file__).resolve().parents[2]


def profile() -> str:
    """The profile asked for: ``native`` (this machine as it is) or ``avx2``."""
    return os.environ.get("NABAA_CPU_ISA", "native").strip().lower() or "native"


def llama_build_dir(name: str) -> Path:
    """Where ``scripts/setup.sh --isa NAME`` installs that profile's llama.cpp build."""
    return _ROOT / ".venv" / f"isa-{name}"


def apply() -> None:
    """Set the caps and put the profile's llama.cpp build first on the path."""
    name = profile()
    if name == "native":
        return
    for key, value in CAPS.items():
        os.environ.setdefault(key, value)
    build = llama_build_dir(name)
    if (build / "llama_cpp").is_dir() and str(build) not in sys.path:
        sys.path.insert(0, str(build))


def llama_build_problem() -> str | None:
    """Why the profile cannot run (its llama.cpp build is not the one imported), or None."""
    name = profile()
    if name == "native":
        return None
    if name not in PROFILES:
        return f"NABAA_CPU_ISA={name} is not a profile; use one of {', '.join(PROFILES)}."
    import llama_cpp

    if llama_build_dir(name).resolve() not in Path(llama_cpp.__file__).resolve().parents:
        return (
            f"NABAA_CPU_ISA={name} needs llama.cpp built for it: run "
            f"scripts/setup.sh --isa {name} (or make bench-{name})."
        )
    return None
