"""`python -m controllers` runs the controller-manager (`schooner-controller-manager`)."""

from .main import main

main()
