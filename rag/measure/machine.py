"""The machine a measurement ran on: CPU model, the instruction sets that decide speed here,
and the CPU features llama.cpp was built with."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from rag.models import cpu_profile

# /proc/cpuinfo flag -> name in reports.
ISA_FLAGS = {
    "avx2": "AVX2",
    "avx_vnni": "AVX-VNNI",
    "avx512f": "AVX-512",
    "avx512_vnni": "AVX-512 VNNI",
    "avx512_bf16": "AVX-512 BF16",
    "amx_tile": "AMX",
}


def _cpuinfo() -> tuple[str, set[str]]:
    path = Path("/proc/cpuinfo")
    model, flags = platform.processor() or platform.machine(), set()
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    return model, flags


def llama_cpp_features() -> list[str]:
    """CPU features llama.cpp was compiled with (those its system info reports as on)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    pairs = (part.rsplit("=", 1) for part in info.split("|") if "=" in part)
    return [name.split(":")[-1].strip() for name, value in pairs if value.strip() == "1"]


def describe_machine() -> dict:
    """CPU model and count, which instruction sets it has, the profile it runs as, and
    llama.cpp's build features."""
    model, flags = _cpuinfo()
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "isa": {name: flag in flags for flag, name in ISA_FLAGS.items()},
        "profile": cpu_profile.profile(),
        "llama_cpp": llama_cpp_features(),
    }


def machine_line(machine: dict) -> str:
    """One line for a report: "AMD EPYC, 2 CPUs; has AVX2, AVX-512…; llama.cpp: …"."""
    has = [name for name, present in machine["isa"].items() if present] or ["none of"]
    lacks = [name for name, present in machine["isa"].items() if not present]
    line = f"Machine: {machine['cpu']}, {machine['cpus']} CPUs; has {', '.join(has)}"
    if lacks:
        line += f"; lacks {', '.join(lacks)}"
    if machine.get("profile", "native") != "native":
        line += f"; run as {machine['profile'].upper()}-only (profile NABAA_CPU_ISA)"
    return f"{line}. llama.cpp built with: {' '.join(machine['llama_cpp'])}."
