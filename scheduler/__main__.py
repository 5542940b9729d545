"""`python -m scheduler` runs the scheduler (the `schooner-scheduler` console script)."""

from scheduler.main import main

main()
