"""EmbeddingGemma's transformer on OpenVINO: exported once from the sentence-transformers
folder, cached, and run inside the same ``SentenceTransformer``.

Tokenizer, prompts, pooling and the dense layers stay sentence-transformers' own; only the
transformer body runs on OpenVINO, which computes in bf16 on CPUs with AMX (4x plain fp32
torch here, embeddings within cosine 0.9999 of it). optimum-intel, the usual exporter, does
not support transformers 5, so the export is done here with ``openvino.convert_model``.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock

SUPPORTED_MODEL_TYPES = ("gemma3_text",)
XML_NAME = "openvino_model.xml"


def available(model_dir: Path) -> bool:
    """Whether OpenVINO is installed and the model's transformer can be exported.

    Not on a single core: OpenVINO 2026.4's bf16 kernels die with SIGFPE on one thread.
    """
    try:
        import openvino  # noqa: F401

        config = json.loads((model_dir / "config.json").read_text())
    except (ImportError, OSError, ValueError):
        return False
    return config.get("model_type") in SUPPORTED_MODEL_TYPES and (os.cpu_count() or 1) > 1


def exported(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a finished export."""
    return (out_dir / XML_NAME).is_file()


class _MaskedGemma(torch.nn.Module):
    """The transformer with its bidirectional masks built from plain tensor ops:
    transformers builds them with ``torch.vmap``, which the OpenVINO converter cannot trace."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer
        self.window = transformer.config.sliding_window

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        valid = attention_mask.bool()
        full = valid[:, None, None, :].expand(-1, 1, length, length)
        pos = torch.arange(length, device=input_ids.device)
        window = (pos[:, None] - pos[None, :]).abs() < self.window
        # Padded query rows keep their keys, or they would be all-masked and turn into NaN.
        sliding = full & (window[None, None] | ~valid[:, None, :, None])
        masks = {"full_attention": full, "sliding_attention": sliding}
        out = self.transformer(
            input_ids=input_ids, attention_mask=masks, use_cache=False, return_dict=True
        )
        return out.last_hidden_state


def export(model: object, out_dir: Path) -> Path:
    """Export the model's transformer to ``out_dir`` (once; atomic) and return the XML path."""
    import openvino as ov

    xml = out_dir / XML_NAME
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out_dir) + ".lock"):
        if exported(out_dir):
            return xml
        wrapped = _MaskedGemma(model[0].model.eval()).eval()
        # The example needs padding, so the masked path is what gets traced.
        example = model.tokenizer(
            ["an example passage to trace", "q"], padding=True, return_tensors="pt"
        )
        example = {"input_ids": example["input_ids"], "attention_mask": example["attention_mask"]}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow
            converted = ov.convert_model(
                wrapped,
                example_input=example,
                input=[
                    ("input_ids", [-1, -1], ov.Type.i64),
                    ("attention_mask", [-1, -1], ov.Type.i64),
                ],
            )
        converted.outputs[0].get_tensor().set_names({"last_hidden_state"})
        partial = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        ov.save_model(converted, str(partial / XML_NAME), compress_to_fp16=True)
        partial.rename(out_dir)
    return xml


class _OpenVINOTransformer(torch.nn.Module):
    """Stands in for the Hugging Face transformer inside sentence-transformers."""

    def __init__(self, xml: Path, config: object) -> None:
        import openvino as ov

        super().__init__()
        self.config = config
        self.request = ov.Core().compile_model(str(xml), "CPU").create_infer_request()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> dict:
        result = self.request.infer(
            {
                "input_ids": input_ids.numpy().astype(np.int64),
                "attention_mask": attention_mask.numpy().astype(np.int64),
            },
            share_inputs=True,
        )
        # A copy: OpenVINO reuses its output buffer on the next call.
        return {"last_hidden_state": torch.from_numpy(np.array(result[0], copy=True))}


def use_openvino(model: object, export_dir: Path) -> None:
    """Swap the model's transformer for its OpenVINO export (made first if missing; that
    needs the model loaded in float32)."""
    xml = export(model, export_dir)
    model[0].model = _OpenVINOTransformer(xml, model[0].model.config)
    gc.collect()
