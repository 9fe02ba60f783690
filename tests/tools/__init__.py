"""Tests of the researcher and owner tools (jibo_cloud/tools)."""
