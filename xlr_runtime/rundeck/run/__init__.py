"""Running executions: the service and its loop, the workflow, flow control, job references, options, context."""
