"""Test helpers shipped with the runtime, for our own suite and for plugin authors' tests.

:mod:`xlr_runtime.testing.jenkins` is a small, real Jenkins remote-access API server for testing the
``jenkins.Build`` task (and any plugin that talks to Jenkins) without a Jenkins.
"""
