from greeter.client import GreeterClient

print "about to fail"
GreeterClient(name).fail()
