"""scaffold: write correct, fast PyTorch training projects from a copier template."""

__version__ = "0.11.0"
