# CredentialsFallback as an injected global and as an import (Python 3)
server = {"url": "http://jenkins", "username": "server-user", "password": "server-pw"}
own = {"username": "task-user", "password": "task-pw"}
fallback = {"username": server["username"], "password": server["password"]}
print(own["username"], fallback["username"])
result = [own, fallback]
