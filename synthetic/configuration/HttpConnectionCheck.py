# Built-in connection check of configuration.HttpConnection types (scriptLocation
# "configuration/HttpConnectionCheck.py"): a HEAD request to url + checkConfigurationPath,
# accepting 200-399. Runs with the injected globals `configuration` and `HttpRequest`.
path = configuration.checkConfigurationPath or ''
content_type = configuration.checkConfigurationContentType or 'application/json'
response = HttpRequest(configuration).doRequest(method='HEAD', context=path, contentType=content_type)
if not response.isSuccessful():
    raise Exception("Connection check failed: HTTP %s from %s" % (response.getStatus(), configuration.url))
