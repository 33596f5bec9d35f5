print("calling %s as %s" % (server["url"], name))
url = server["url"] + "/" + name
