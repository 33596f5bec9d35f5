# recorded.Poll: one counter reading a run (HttpRequest, the token in the query), the key the server saw (plain
# requests, the token in a header), then poll again after 1 s until there are `polls` readings.
import sys

import requests

response = HttpRequest(server).get(counter + "?apiToken=" + apiToken, contentType="text/plain")
if not response.isSuccessful():
    sys.exit("counter answered HTTP %s" % response.getStatus())
readings = (readings + "," if readings else "") + response.getResponse()
echoed = requests.get(server["url"] + "/echo", headers={"X-Api-Key": apiToken}, timeout=30).json()["key"]
print("Reading %s from %s" % (response.getResponse(), server["url"]))
count = len(readings.split(","))
task.setStatusLine("%d of %d readings" % (count, polls))
if count < polls:
    task.schedule("recorded/Poll.py", 1)
