"""Fixtures of the security tests: the in-process server of ``tests/conftest.py`` and,
for what only a real process shows (its log, its survival), the subprocess server
of the fault tests."""

from __future__ import annotations

from tests.faults.conftest import server_process

__all__ = ["server_process"]
