# Java and Jython imports real plugins use (Python 2)
import sets
import __builtin__
import com.xhaus.jyson.JysonCodec as json
from java.lang import String, System, Thread, Integer, Exception as JavaException
from java.util import HashMap, ArrayList, Date, UUID
from java.io import File
from java.net import URLEncoder, URLDecoder
from org.apache.commons.codec.binary import Base64
from org.slf4j import LoggerFactory

log = LoggerFactory.getLogger("jython_imports")
seen = sets.Set(["a", "b", "a"])
frozen = sets.ImmutableSet([1])
data = json.loads('{"number": 42, "items": [1, 2]}')
text = json.dumps({"ok": True})
auth = String(Base64.encodeBase64(String("user:pw").getBytes()))
params = HashMap()
params.put("job", "build it")
names = ArrayList()
names.add("x")
Thread.sleep(1)
started = System.currentTimeMillis() > 0 and Date().getTime() > 0
print len(seen), len(frozen), data["number"], text, auth
print URLEncoder.encode(params.get("job"), "UTF-8"), URLDecoder.decode("a+b%21", "UTF-8")
print Integer.parseInt("17") + 1, String("  Trim me ").trim().toUpperCase(), File("/tmp/x.txt").getName()
log.info("logged {}", 1)
logger.warn("global logger")
try:
    raise JavaException("boom")
except Exception, error:
    print "java exception caught:", error
if __name__ == "__builtin__":
    print "main guard", __builtin__.len([1, 2]), len(UUID.randomUUID().toString())
result = [sorted(seen), data["items"], auth, names.size(), params.containsKey("job"), started]
