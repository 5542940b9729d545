"""`python -m agent`: the same as the `schooner-agent` console script."""

from agent.main import main

main()
