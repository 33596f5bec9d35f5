# jenkins.Build, script 3 of 3: poll the build until it has a result.
#
# Reads the output `buildNumber` set by Build.wait-for-queue.py; sets the output `buildStatus`. SUCCESS
# completes the task, any other result fails it with sys.exit("<one-line reason>"), details in the task log.
# Reschedules itself while the build runs, and while Jenkins does not answer (connection refused, 502-504):
# an outage is logged and waited out.
import sys
from urllib.parse import quote

WAIT_FOR_BUILD = "jenkins/Build.wait-for-build.py"
UNAVAILABLE = (502, 503, 504)

jenkinsUrl = jenkinsServer["url"].rstrip("/")
displayName = jobName.strip("/").replace("/job/", "/")  # folder/job as Jenkins names it
buildContext = "/job/" + quote(jobName.strip("/")) + "/" + buildNumber + "/"

try:
    response = HttpRequest(jenkinsServer, username, password).get(buildContext + "api/json",
                                                                   contentType="application/json")
    problem = None
    if response.getStatus() in UNAVAILABLE:
        problem = "GET %s answered HTTP %s" % (jenkinsUrl + buildContext + "api/json", response.getStatus())
except OSError as error:
    response, problem = None, str(error)

if problem:
    print("Jenkins did not answer: %s. Polling build #%s again later." % (problem, buildNumber))
    task.setStatusLine("Running build #%s (Jenkins unreachable, retrying)" % buildNumber)
    task.schedule(WAIT_FOR_BUILD)
elif not response.isSuccessful():
    status = response.getStatus()
    print("Could not read build #%s of `%s` at %s (HTTP %s)."
          % (buildNumber, jobName, jenkinsUrl + buildContext, status))
    response.errorDump()
    if status == 401:
        sys.exit("Jenkins refused the credentials (HTTP 401)")
    sys.exit("Could not read build #%s of %s: HTTP %s" % (buildNumber, displayName, status))
else:
    result = JsonPathResult(response.getResponse(), "result").get()
    building = JsonPathResult(response.getResponse(), "building").get()
    if result is None or building is True:
        task.setStatusLine("Running build #%s" % buildNumber)
        task.schedule(WAIT_FOR_BUILD)
    else:
        buildStatus = result
        task.getPythonScript().setProperty("buildStatus", buildStatus)  # kept even when the task fails below
        buildUrl = JsonPathResult(response.getResponse(), "url").get() or jenkinsUrl + buildContext
        print("\nFinished: %s" % buildStatus)
        print("[%s #%s](%s) - view [Console Output](%sconsole)" % (displayName, buildNumber, buildUrl, buildUrl))
        task.setStatusLine("Build #%s: %s" % (buildNumber, buildStatus))
        if buildStatus != "SUCCESS":
            sys.exit("Build #%s of %s finished with %s" % (buildNumber, displayName, buildStatus))
