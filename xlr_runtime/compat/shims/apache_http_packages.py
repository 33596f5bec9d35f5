"""The Java packages :mod:`xlr_runtime.compat.shims.apache_http` serves and their classes, in a module of their own
so that the import machinery (:mod:`xlr_runtime.compat.imports`) knows the names without importing the shim,
which a worker does only when a script imports ``org.apache.http``."""

from __future__ import annotations

#: Java package -> the classes of it this module serves.
JAVA_PACKAGES: dict[str, frozenset[str]] = {
    "org.apache.http": frozenset({"HttpHost", "HttpStatus", "Header", "HttpEntity", "NameValuePair"}),
    "org.apache.http.client": frozenset({"ClientProtocolException"}),
    "org.apache.http.client.methods": frozenset(
        {
            "HttpGet",
            "HttpHead",
            "HttpPost",
            "HttpPut",
            "HttpDelete",
            "HttpPatch",
            "HttpOptions",
            "HttpRequestBase",
            "HttpEntityEnclosingRequestBase",
            "CloseableHttpResponse",
        }
    ),
    "org.apache.http.impl.client": frozenset(
        {"HttpClients", "HttpClientBuilder", "CloseableHttpClient", "DefaultHttpClient", "BasicCredentialsProvider"}
    ),
    "org.apache.http.entity": frozenset({"StringEntity", "ByteArrayEntity", "ContentType"}),
    "org.apache.http.client.entity": frozenset({"UrlEncodedFormEntity"}),
    "org.apache.http.util": frozenset({"EntityUtils"}),
    "org.apache.http.client.config": frozenset({"RequestConfig", "AuthSchemes"}),
    "org.apache.http.auth": frozenset({"AuthScope", "UsernamePasswordCredentials", "NTCredentials"}),
    "org.apache.http.client.protocol": frozenset({"HttpClientContext"}),
    "org.apache.http.protocol": frozenset({"BasicHttpContext", "HttpContext", "HTTP"}),
    "org.apache.http.message": frozenset({"BasicHeader", "BasicNameValuePair"}),
}
