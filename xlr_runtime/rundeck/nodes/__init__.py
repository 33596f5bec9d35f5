"""Nodes: resource models, node filters, project properties, and the local and SSH node executors."""
