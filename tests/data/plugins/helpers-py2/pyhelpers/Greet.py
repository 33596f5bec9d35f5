# Jython: the plugin's own package, imported from the plugin root
from greeter.client import GreeterClient
import greeter.formats as formats

client = GreeterClient(name)
greeting = client.greet()
half = client.half(7)
print formats.banner(greeting)
