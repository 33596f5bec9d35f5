# unicode, basestring, long, raw strings, base64 on text (Python 2)
import base64
name = unicode("caf\xe9") if False else u"caf\u00e9"
print isinstance(name, basestring), isinstance(3L, (int, long)), type(name) == unicode
token = base64.b64encode("admin:secret")
header = "Basic " + token
print header
plain = base64.b64decode(token)
print plain, base64.encodestring("admin:secret").strip()
result = [name, header, plain, long("12"), unichr(65)]
