"""Articles to passages: reading files, chunking."""
