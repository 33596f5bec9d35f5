# Python 2: read the host CIs as dicts, as public plugins do before opening an Overthere connection
route = "direct"
if proxy:
    route = "via %s:%s" % (proxy["address"], proxy["port"])
summary = "%s@%s:%s %s %s %s" % (host["username"], host["address"], host["port"], host["connectionType"], host["os"], route)
if windows:
    summary += " | %s:%s %s %s" % (windows["address"], windows["port"], windows["connectionType"], windows["site"])
print summary
