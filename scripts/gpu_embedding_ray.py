"""EmbeddingGemma-300M's shape (its config, random weights, bf16) on one GPU: passages/s
of a plain loop and of a Ray Data actor pool (1 actor, num_gpus=1), at 96 and 256 tokens.

The real weights cannot travel to the GPU machine (1.2 GB), and Nabaa's embedder on torch is
this model under sentence-transformers: token embeddings, mean pooling, two dense layers,
normalisation. Token ids are random (tokenising is CPU work, done beside the GPU)."""

import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = os.environ.get("DEVICE", "cuda")  # "cpu": a dry run of the script itself
GPUS = 1 if DEVICE == "cuda" else 0
# EmbeddingGemma's config.json beside this script's copy on the GPU machine (docs/gpu-check.md).
GEMMA = os.environ.get("GEMMA_CONFIG_DIR", os.path.join(HERE, "gemma"))


class Encoder:
    """What a Ray actor holds: the model, loaded once."""

    def __init__(self, length: int) -> None:
        from transformers import AutoConfig, AutoModel

        torch.manual_seed(0)
        config = AutoConfig.from_pretrained(GEMMA)
        self.model = AutoModel.from_config(config, dtype=torch.bfloat16).to(DEVICE).eval()
        self.dense = torch.nn.Sequential(
            torch.nn.Linear(768, 3072, bias=False), torch.nn.Linear(3072, 768, bias=False)
        ).to(DEVICE, torch.bfloat16)
        self.vocab = config.vocab_size
        self.length = length
        self.rng = np.random.default_rng(0)

    @torch.inference_mode()
    def embed(self, n: int) -> np.ndarray:
        ids = torch.from_numpy(self.rng.integers(3, self.vocab, (n, self.length))).to(DEVICE)
        mask = torch.ones_like(ids)
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        out = torch.nn.functional.normalize(self.dense(pooled).float(), dim=-1)
        return out.cpu().numpy()

    def __call__(self, batch: dict) -> dict:
        vectors = self.embed(len(batch["id"]))
        return {"id": batch["id"], "vector": list(vectors)}


def plain(length: int, n: int, batch: int) -> float:
    enc = Encoder(length)
    enc.embed(batch)
    start = time.perf_counter()
    for i in range(0, n, batch):
        enc.embed(min(batch, n - i))  # each ends with a copy to the host: synchronised
    return n / (time.perf_counter() - start)


def with_ray(length: int, n: int, batch: int) -> tuple[float, float]:
    """Passages/s in steady state (from the first batch out to the last), and the seconds
    before the first batch (actor start, model load)."""
    import ray

    ds = ray.data.range(n).map_batches(
        Encoder,
        fn_constructor_args=(length,),
        batch_size=batch,
        concurrency=1,
        num_gpus=GPUS,
        batch_format="numpy",
    )
    began = time.perf_counter()
    first, count = None, 0
    for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
        if first is None:
            first, skipped = time.perf_counter(), len(out["id"])
        count += len(out["id"])
    assert count == n
    return (count - skipped) / (time.perf_counter() - first), first - began


def main() -> None:
    import ray

    name = torch.cuda.get_device_name(0) if GPUS else "cpu"
    print(name, "torch", torch.__version__, "ray", ray.__version__, flush=True)
    ray.init(num_cpus=8, num_gpus=GPUS, include_dashboard=False, log_to_driver=False)
    results = []
    sizes = ((96, 60_000, 256), (256, 24_000, 128)) if GPUS else ((96, 96, 16),)
    for length, n, batch in sizes:
        row = {"tokens": length, "passages": n, "batch": batch}
        row["plain_per_s"] = round(plain(length, n, batch))
        if GPUS:
            torch.cuda.empty_cache()
        rate, startup = with_ray(length, n, batch)
        row["ray_pool_per_s"], row["ray_first_batch_s"] = round(rate), round(startup, 1)
        print(json.dumps(row), flush=True)
        results.append(row)
    ray.shutdown()
    out = os.environ.get("OUT", "/tmp")
    with open(os.path.join(out, "ray_gpu_embed.json"), "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
