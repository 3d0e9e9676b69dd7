"""rag.models.memory on glibc: freed blocks between live ones go back to the system."""

import subprocess
import sys
from pathlib import Path

import pytest

from rag.models import memory

pytestmark = pytest.mark.skipif(
    memory._glibc() is None or not Path("/proc/self/status").exists(),
    reason="glibc and /proc only",
)

# Frees 100 MB of 2 MiB blocks that sit between small live ones, so the heap cannot shrink
# from its top, and prints how much of it the process still holds. The 8 MiB block freed
# first is what raises glibc's own mmap threshold above 2 MiB, as in a long-running app.
_FRAGMENT = """
import sys
from pathlib import Path
from rag.models.memory import limit_heap_growth, release_free_memory

def anon_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) // 1024

if sys.argv[1] == "limit":
    limit_heap_growth()
big = b"x" * (8 << 20)
del big
before = anon_mb()
blocks, pins = [], []
for _ in range(50):
    blocks.append(b"x" * (2 << 20))
    pins.append(b"x" * (64 << 10))
del blocks
if sys.argv[1] == "release":
    release_free_memory()
print(anon_mb() - before)
"""


def _held_mb(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _FRAGMENT, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return int(out.stdout)


def test_freed_blocks_stay_resident_without_either_call():
    assert _held_mb("none") >= 80


@pytest.mark.parametrize("mode", ["limit", "release"])
def test_freed_blocks_go_back_to_the_system(mode):
    assert _held_mb(mode) <= 20
