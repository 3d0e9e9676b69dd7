"""Where passages live and how they are found: vector index, keyword index."""
