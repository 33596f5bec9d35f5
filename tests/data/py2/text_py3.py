# unicode, basestring, long, raw strings, base64 on text (Python 3)
import base64
name = "caf\u00e9"
print(isinstance(name, str), isinstance(3, int), type(name) == str)
token = base64.b64encode(b"admin:secret").decode("ascii")
header = "Basic " + token
print(header)
plain = base64.b64decode(token).decode("utf-8")
print(plain, base64.encodebytes(b"admin:secret").decode("ascii").strip())
result = [name, header, plain, int("12"), chr(65)]
