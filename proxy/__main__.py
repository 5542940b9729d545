"""`python -m proxy` runs the service proxy (the `schooner-proxy` console script)."""

from proxy.main import main

main()
