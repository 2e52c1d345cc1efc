"""Shared test helpers."""

# A subprocess (or server) that takes this long has hung: fail rather than wait forever. Only a
# hang guard, far above any measured time, so a slow or shared CI machine never fails a test.
HANG_GUARD_S = 1800
