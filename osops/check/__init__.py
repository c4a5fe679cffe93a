"""Monitoring checks: the contract, the runner and the generic checks."""
