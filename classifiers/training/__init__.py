"""Reproducible training of the bundled models (needs the shared data sets, not the product)."""
