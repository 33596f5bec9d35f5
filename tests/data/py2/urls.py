# urllib, urllib2, httplib, urlparse (Python 2)
import urllib
import urllib2
import httplib
import urlparse
from urllib import urlencode, quote
print urllib.quote("a b/c", safe="/"), quote("x&y")
query = urllib.urlencode([("q", "a b"), ("n", 1)])
parts = urlparse.urlparse("http://example.com:8080/job/x?delay=0")
request = urllib2.Request("http://example.com/api", data=urlencode({"a": "1"}))
print parts.hostname, parts.port, request.get_method(), httplib.OK, httplib.NOT_FOUND
result = [query, parts.path, urllib.unquote("a%20b"), urlparse.urljoin("http://h/a/", "b")]
