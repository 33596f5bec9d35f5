import sys, string, urllib
from xlrelease.HttpRequest import HttpRequest

if jenkinsServer is None:
    print "No server provided."
    sys.exit(1)

jenkinsURL = jenkinsServer['url']
request = HttpRequest(jenkinsServer, username, password)

jobContext = '/job/' + urllib.quote(jobName) + '/'
if jobParameters:
    parameters = {}
    for line in jobParameters.split('\n'):
        if string.strip(line):
            name, value = line.split('=', 1)
            parameters[name.strip()] = value.strip()
    buildContext = jobContext + 'buildWithParameters?' + urllib.urlencode(parameters)
else:
    buildContext = jobContext + 'build'
buildUrl = jenkinsURL + buildContext

buildResponse = request.post(buildContext, '', contentType = 'application/json')

if buildResponse.isSuccessful():
    # query the location header which gives a queue item position

    location = None
    if 'Location' in buildResponse.getHeaders() and '/queue/item/' in buildResponse.getHeaders()['Location']:
        location = '/queue/item/' + filter(None, buildResponse.getHeaders()['Location'].split('/'))[-1] + '/'

    task.setStatusLine("Build queued")
    task.schedule("jenkins/Build.wait-for-queue.py")

else:
    print "Failed to connect at %s." % buildUrl
    buildResponse.errorDump()
    sys.exit(1)
