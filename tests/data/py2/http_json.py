# HttpRequest (imported) and JsonPathResult (Python 2); serverUrl is given by the test
from xlrelease.HttpRequest import HttpRequest as ImportedHttpRequest
from com.xebialabs.xlrelease.plugin.webhook import JsonPathResult
request = ImportedHttpRequest({"url": serverUrl})
response = request.get("/queue/item/7/api/json", contentType="application/json")
if response.isSuccessful():
    number = JsonPathResult(response.response, "executable.number").get()
    missing = JsonPathResult(response.response, "executable.missing").get()
    print "build", number, missing
else:
    print "failed with %s" % response.status
result = [response.status, number, missing, response.getHeaders().has_key("Content-Type")]
