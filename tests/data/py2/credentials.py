# CredentialsFallback as an injected global and as an import (Python 2)
from xlrelease.CredentialsFallback import CredentialsFallback as Imported
server = {"url": "http://jenkins", "username": "server-user", "password": "server-pw"}
own = CredentialsFallback(server, "task-user", "task-pw").getCredentials()
fallback = Imported(server, None, None).getCredentials()
print own["username"], fallback["username"]
result = [own, fallback]
