"""`python -m apiserver` runs the apiserver (the `schooner-apiserver` console script)."""

from .main import main

main()
