"""Fault-injection tests: real etcd and apiserver processes, faults by signal to a PID.

Each test starts the processes it breaks (never the session's shared ones) and
signals only those, by the PID it was given; a frozen process is thawed before
it is stopped. Figures the tests measure are printed (run with `-s` to see
them) and recorded in docs/reliability.md.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.chaos
