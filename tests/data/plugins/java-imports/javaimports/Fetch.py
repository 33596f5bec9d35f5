import java.lang.System as System
import java.text.SimpleDateFormat as SimpleDateFormat
from java.util import Date, TimeZone
from java.io import PrintWriter, StringWriter
from org.slf4j import Logger, LoggerFactory
from org.apache.http.impl.client import HttpClients
from org.apache.http.client.methods import HttpGet
from org.apache.http.util import EntityUtils
from com.xebialabs.xlrelease.domain.configuration import HttpConnection

log = LoggerFactory.getLogger("javaimports.Fetch")
connection = HttpConnection(server)
client = HttpClients.createDefault()
try:
    response = client.execute(HttpGet(connection.getUrl() + path))
    status = response.getStatusLine().getStatusCode()
    body = EntityUtils.toString(response.getEntity(), "UTF-8")
finally:
    client.close()

formatter = SimpleDateFormat("EEE d MMM yyyy")
formatter.setTimeZone(TimeZone.getTimeZone("UTC"))
day = formatter.format(Date(0))

try:
    count = int(body)
except ValueError, e:
    trace = StringWriter()
    e.printStackTrace(PrintWriter(trace))
    problem = trace.toString().splitlines()[-1]

log.info("fetched {} with status {}", path, status)
print "clock after the epoch: %s" % (System.currentTimeMillis() > 0)
