# The Python 3 twin of beans.py: the same values read as attributes and items
from xlrelease.HttpRequest import HttpRequest

print("ci", server.url, server["username"], server.proxyPort, server.title)
print("same", True, server.getType())
if server.authenticationMethod != "None":
    print("auth", server.authenticationMethod)
response = HttpRequest({"url": serverUrl}).get("/queue/item/7/api/json")
print("response", response.status, 200 <= response.status < 400, len(response.response) > 0)
for line in "first\nsecond".splitlines():
    print("read", line)
result = [server.url, server["proxyPort"], response.status, server.title]
