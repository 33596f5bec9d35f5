# Java and Jython imports real plugins use (Python 3)
import base64
import builtins
import json
import os
import time
import urllib.parse
import uuid

seen = {"a", "b", "a"}
frozen = frozenset([1])
data = json.loads('{"number": 42, "items": [1, 2]}')
text = json.dumps({"ok": True})
auth = base64.b64encode(b"user:pw").decode("ascii")
params = {"job": "build it"}
names = ["x"]
time.sleep(0.001)
started = True
print(len(seen), len(frozen), data["number"], text, auth)
print(urllib.parse.quote_plus("build it"), urllib.parse.unquote_plus("a+b%21"))
print(int("17") + 1, "  Trim me ".strip().upper(), os.path.basename("/tmp/x.txt"))
print("INFO logged 1")
import sys
sys.stderr.write("WARN global logger\n")
try:
    raise Exception("boom")
except Exception as error:
    print("java exception caught:", error)
if __name__ == "__builtin__":
    print("main guard", builtins.len([1, 2]), len(str(uuid.uuid4())))
result = [sorted(seen), data["items"], auth, len(names), "job" in params, started]
