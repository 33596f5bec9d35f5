"""Running plugin scripts: the XL Release script API, the worker pool, and the request/result contract."""
