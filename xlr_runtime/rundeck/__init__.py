"""Rundeck compatibility: job definitions, their codecs, and running them (executions, nodes, options)."""
