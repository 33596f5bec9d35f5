# Python 2: the property defined twice has the value of its later definition
echoed = "%s x%d" % (message, retries)
print echoed
