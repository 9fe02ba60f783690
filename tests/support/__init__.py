"""Helpers shared by the test suite (not fixtures data: that lives in ``fixtures/``)."""
