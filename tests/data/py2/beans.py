# Java-bean access on the runtime's objects: a CI read as getFoo()/isFoo() and a response's getters (Python 2);
# the test gives the CI "server" (url, username, proxyPort, authenticationMethod) and serverUrl
from xlrelease.HttpRequest import HttpRequest
from java.io import BufferedReader, StringReader

print "ci", server.getUrl(), server.getUsername(), server.getProxyPort(), server.getTitle()
print "same", server.getUrl() == server.url == server["url"], server.getType()
if server.getAuthenticationMethod() <> "None":
    print "auth", server.getAuthenticationMethod()
response = HttpRequest({"url": serverUrl}).get("/queue/item/7/api/json")
print "response", response.getStatus(), response.isSuccessful(), len(response.getResponse()) > 0
reader = BufferedReader(StringReader("first\nsecond"))
line = reader.readLine()
while line is not None:
    print "read", line
    line = reader.readLine()
result = [server.getUrl(), server.getProxyPort(), response.getStatus(), server.getTitle()]
