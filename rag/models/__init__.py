"""The models: assembled from their packages, the embedder, the LLM."""
