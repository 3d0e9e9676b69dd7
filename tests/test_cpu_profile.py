"""The AVX2-only profile: every library capped to AVX2, llama.cpp from its AVX2 build."""

import json
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT
from rag.models import cpu_profile

# Run in a child: the caps must be set before torch and OpenVINO load.
_PROBE = """
import json, os, sys
import rag
import numpy as np, openvino as ov, openvino.opset13 as ops, torch
x = ops.parameter([4, 64], ov.Type.f32)
w = ops.constant(np.ones((64, 64), np.float32))
# Saved with f16 weights, as the embedder's export is: a plain f32 product would go to MLAS,
# which ignores the caps (the profile's known gap).
ov.save_model(ov.Model([ops.matmul(x, w, False, True)], [x]), sys.argv[1], compress_to_fp16=True)
compiled = ov.Core().compile_model(sys.argv[1], "CPU")
compiled.create_infer_request().infer({0: np.ones((4, 64), np.float32)})
kernels = [
    op.get_rt_info()["primitiveType"].astype(str)
    for op in compiled.get_runtime_model().get_ops()
    if op.get_rt_info()["layerType"].astype(str) == "FullyConnected"
]
print(json.dumps({
    "env": {k: os.environ.get(k) for k in rag.models.cpu_profile.CAPS},
    "torch": torch.backends.cpu.get_cpu_capability(),
    "openvino": kernels,
    "precision": str(compiled.get_property("INFERENCE_PRECISION_HINT")),
}))
"""


def _probe(profile: str, tmp_path) -> dict:
    env = {"NABAA_CPU_ISA": profile, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "matmul.xml")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_avx2_profile_caps_torch_and_openvino(tmp_path):
    found = _probe("avx2", tmp_path)
    assert found["env"] == cpu_profile.CAPS
    assert found["torch"] == "AVX2"
    assert found["openvino"] and all("avx2" in k and "512" not in k for k in found["openvino"])
    assert "float32" in found["precision"]  # no bf16 without AVX-512 BF16 or AMX


def test_native_profile_sets_no_caps(tmp_path):
    assert _probe("native", tmp_path)["env"] == dict.fromkeys(cpu_profile.CAPS)


def test_profile_without_its_llama_build_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setenv("NABAA_CPU_ISA", "avx2")
    monkeypatch.setattr(cpu_profile, "llama_build_dir", lambda name: tmp_path / name)
    problem = cpu_profile.llama_build_problem()
    assert problem and "scripts/setup.sh --isa avx2" in problem


def test_unknown_profile_is_named(monkeypatch):
    monkeypatch.setenv("NABAA_CPU_ISA", "avx9")
    assert "avx9 is not a profile" in cpu_profile.llama_build_problem()


@pytest.mark.parametrize("profile", ["native", "avx2"])
def test_settings_accept_the_profiles(monkeypatch, profile):
    from rag.config import Settings

    monkeypatch.setenv("NABAA_CPU_ISA", profile)
    assert Settings().cpu_isa == profile
