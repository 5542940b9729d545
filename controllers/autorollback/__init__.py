"""The auto-rollback controller: a failed rollout goes back to the last available revision.

- `controller`: AutoRollbackController, which reads the caches and writes;
- `decisions`: when to record, roll back or leave alone, as pure functions.
"""

from .controller import AutoRollbackController

__all__ = ["AutoRollbackController"]
