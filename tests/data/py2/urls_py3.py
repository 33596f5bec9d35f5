# urllib, urllib2, httplib, urlparse (Python 3)
import urllib.parse
import urllib.request
import http.client
from urllib.parse import urlencode, quote
print(urllib.parse.quote("a b/c", safe="/"), quote("x&y"))
query = urllib.parse.urlencode([("q", "a b"), ("n", 1)])
parts = urllib.parse.urlparse("http://example.com:8080/job/x?delay=0")
request = urllib.request.Request("http://example.com/api", data=urlencode({"a": "1"}).encode())
print(parts.hostname, parts.port, request.get_method(), http.client.OK, http.client.NOT_FOUND)
result = [query, parts.path, urllib.parse.unquote("a%20b"), urllib.parse.urljoin("http://h/a/", "b")]
