"""Remote nodes over SSH, as Rundeck's ``jsch-ssh`` / ``sshj-ssh`` node executors and ``jsch-scp`` / ``sshj-scp``
file copiers run them.

- :mod:`.providers` — which node executor and file copier a node gets (node attribute, project default, local);
- :mod:`.target` — the connection settings of a node from its attributes and the project/framework properties;
- :mod:`.credentials` — the private key or password of a node (key storage, key file, secure option);
- :mod:`.sessions` — one SSH connection per node per execution, reused across steps;
- :mod:`.executor` — a command on a node: environment, streamed output, exit code, command timeout, abort;
- :mod:`.copier` — a script copied to the node's destination folder and removed after its run;
- :mod:`.remote` — what a workflow calls: all of the above for one execution.
"""
