# jenkins.Build, script 1 of 3: trigger the job and remember its queue item.
#
# Globals given by the runtime (XL Release's script API): the task's properties (jenkinsServer, username,
# password, jobName, jobParameters, location, buildNumber, buildStatus), task, HttpRequest, JsonPathResult.
# Next: jenkins/Build.wait-for-queue.py, after the default polling interval. A failure ends with
# sys.exit("<one-line reason>"), which the runtime records as the task's failure; details go to the task log.
import json
import sys
from urllib.parse import quote

WAIT_FOR_QUEUE = "jenkins/Build.wait-for-queue.py"

jenkinsUrl = jenkinsServer["url"].rstrip("/")
jobContext = "/job/" + quote(jobName.strip("/")) + "/"
request = HttpRequest(jenkinsServer, username, password)


def fail(reason, detail=None, response=None):
    """Fail the task with a one-line reason; `detail` and the response's errorDump() go to the task log."""
    if detail:
        print(detail)
    if response is not None:
        response.errorDump()
    sys.exit(reason)


def http_reason(response, action):
    """Why a request answered an error: refused credentials, or `action` with the HTTP status."""
    if response.getStatus() == 401:
        return "Jenkins refused the credentials (HTTP 401)"
    return "%s: HTTP %s" % (action, response.getStatus())


def crumb_header():
    """The CSRF crumb as a header named by the server's crumbRequestField; none when crumbs are off."""
    response = request.get("crumbIssuer/api/json", contentType="application/json")
    if not response.isSuccessful():
        return {}
    crumb = JsonPathResult(response.getResponse(), "crumb").get()
    field = JsonPathResult(response.getResponse(), "crumbRequestField").get()
    return {field: crumb} if crumb and field else {}


def parse_parameters(text):
    """One name=value per line, split on the first '='; blank lines are skipped."""
    pairs = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition("=")
        if not separator or not name.strip():
            fail("Job parameter line %d is not name=value: %s" % (number, line.strip()))
        pairs.append((name.strip(), value))
    return pairs


def is_parameterized(job_json):
    """True when the job defines parameters (parameterDefinitions under property[] or actions[])."""
    job = json.loads(job_json)
    holders = (job.get("property") or []) + (job.get("actions") or [])
    return any(isinstance(holder, dict) and holder.get("parameterDefinitions") for holder in holders)


def header(response, name):
    for key, value in (response.getHeaders() or {}).items():
        if key.lower() == name.lower():
            return value
    return None


displayName = jobName.strip("/").replace("/job/", "/")  # folder/job as Jenkins names it
parameters = parse_parameters(jobParameters)
jobResponse = request.get(jobContext + "api/json", contentType="application/json")
if jobResponse.getStatus() == 404:
    fail("Jenkins job '%s' not found (HTTP 404 at %s)" % (displayName, jenkinsUrl + jobContext + "api/json"),
         "Job `%s` was not found on Jenkins at %s." % (jobName, jenkinsUrl))
if not jobResponse.isSuccessful():
    fail(http_reason(jobResponse, "Could not read Jenkins job '%s'" % displayName),
         "Could not read job `%s` at %s (HTTP %s)." % (jobName, jenkinsUrl + jobContext, jobResponse.getStatus()),
         jobResponse)

if is_parameterized(jobResponse.getResponse()):
    query = "&".join(quote(name, safe="") + "=" + quote(value, safe="") for name, value in parameters)
    buildContext = jobContext + "buildWithParameters" + ("?" + query if query else "")
elif parameters:
    fail("Job %s takes no parameters, but jobParameters gives %s" % (displayName, ", ".join(n for n, _ in parameters)))
else:
    buildContext = jobContext + "build"

buildResponse = request.post(buildContext, "", contentType="application/json", headers=crumb_header())
if not buildResponse.isSuccessful():
    fail(http_reason(buildResponse, "Could not trigger %s" % displayName),
         "Failed to trigger job `%s` at %s (HTTP %s)." % (jobName, jenkinsUrl + jobContext, buildResponse.getStatus()),
         buildResponse)

queueUrl = header(buildResponse, "Location")
if not queueUrl or "/queue/item/" not in queueUrl:
    fail("Jenkins accepted the build of %s but sent no queue item location (Location: %s)" % (displayName, queueUrl))

location = "/queue/item/" + [part for part in queueUrl.split("/") if part][-1] + "/"
print("Triggered [%s](%s) on Jenkins: [queue item](%s)." % (displayName, jenkinsUrl + jobContext, queueUrl))
task.setStatusLine("Build queued")
task.schedule(WAIT_FOR_QUEUE)
