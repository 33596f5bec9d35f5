# jenkins.Build, script 2 of 3: poll the queue item until Jenkins starts the build (or cancels it).
#
# Reads the script property `location` (/queue/item/N/) left by Build.py; sets the output `buildNumber`.
# Reschedules itself while the item waits, and while Jenkins does not answer (connection refused, 502-504):
# an outage is logged and waited out, never mistaken for a failure. Next: jenkins/Build.wait-for-build.py.
# A failure ends with sys.exit("<one-line reason>"); details go to the task log.
import sys
from urllib.parse import quote

WAIT_FOR_QUEUE = "jenkins/Build.wait-for-queue.py"
WAIT_FOR_BUILD = "jenkins/Build.wait-for-build.py"
UNAVAILABLE = (502, 503, 504)

jenkinsUrl = jenkinsServer["url"].rstrip("/")
displayName = jobName.strip("/").replace("/job/", "/")  # folder/job as Jenkins names it
itemUrl = jenkinsUrl + location
queueId = location.rstrip("/").rsplit("/", 1)[-1]

try:
    response = HttpRequest(jenkinsServer, username, password).get(location + "api/json", contentType="application/json")
    problem = None
    if response.getStatus() in UNAVAILABLE:
        problem = "GET %s answered HTTP %s" % (jenkinsUrl + location + "api/json", response.getStatus())
except OSError as error:
    response, problem = None, str(error)

if problem:
    print("Jenkins did not answer: %s. Polling the [queue item](%s) again later." % (problem, itemUrl))
    task.setStatusLine("Build queued (Jenkins unreachable, retrying)")
    task.schedule(WAIT_FOR_QUEUE)
elif not response.isSuccessful():
    status = response.getStatus()
    print("Could not read the [queue item](%s) of `%s` (HTTP %s)." % (itemUrl, jobName, status))
    if status == 404:
        print("Jenkins forgets a queue item a few minutes after it leaves the queue.")
    response.errorDump()
    if status == 401:
        sys.exit("Jenkins refused the credentials (HTTP 401)")
    if status == 404:
        sys.exit("Queue item %s of %s is no longer known to Jenkins (HTTP 404)" % (queueId, displayName))
    sys.exit("Could not read queue item %s of %s: HTTP %s" % (queueId, displayName, status))
elif JsonPathResult(response.getResponse(), "cancelled").get():
    print("The build of `%s` was cancelled in the Jenkins queue ([queue item](%s))." % (jobName, itemUrl))
    task.setStatusLine("Cancelled in the Jenkins queue")
    sys.exit("Queue item %s of %s was cancelled" % (queueId, displayName))
else:
    number = JsonPathResult(response.getResponse(), "executable.number").get()
    if number is None:
        task.setStatusLine("Build queued")
        task.schedule(WAIT_FOR_QUEUE)
    else:
        buildNumber = str(number)
        buildUrl = JsonPathResult(response.getResponse(), "executable.url").get()
        buildUrl = buildUrl or "%s/job/%s/%s/" % (jenkinsUrl, quote(jobName.strip("/")), buildNumber)
        print("Started [%s #%s](%s) - view [Console Output](%sconsole)"
              % (displayName, buildNumber, buildUrl, buildUrl))
        task.setStatusLine("Running build #%s" % buildNumber)
        task.schedule(WAIT_FOR_BUILD)
