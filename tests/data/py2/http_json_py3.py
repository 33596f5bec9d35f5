# HttpRequest (imported) and JsonPathResult (Python 3); serverUrl is given by the test
import json
import urllib.request
with urllib.request.urlopen(serverUrl + "/queue/item/7/api/json") as reply:
    status, body, headers = reply.status, json.loads(reply.read()), reply.headers
number = body["executable"]["number"]
missing = body["executable"].get("missing")
print("build", number, missing)
result = [status, number, missing, "Content-Type" in headers]
