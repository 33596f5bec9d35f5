# The greeter package (Python 2, as XL Release runs it).
VERSION = "1.0"
