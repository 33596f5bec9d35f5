# Python 2: a session token (a password output) and a greeting
session = "session-of-" + user + "-" + password[::-1]
greeting = "hi %s" % user
print greeting
