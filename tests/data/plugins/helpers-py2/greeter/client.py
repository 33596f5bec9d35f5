from util import shout  # Python 2: the sibling module greeter/util.py


class GreeterClient(object):
    def __init__(self, name):
        self.name = name

    def greet(self):
        print "greeting %s" % self.name
        return shout("hello " + self.name)

    def half(self, number):
        return number / 2

    def fail(self):
        found = {}
        if not found.has_key(self.name):
            raise ValueError, "no %s in %r" % (self.name, found)
