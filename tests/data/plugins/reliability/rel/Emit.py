# Produces text with a lone surrogate (no UTF-8 form) in the place `what` names.
import sys

bad = u"bad \udcff text"
if what == "print":
    print(bad)
elif what == "stderr":
    sys.stderr.write(bad + "\n")
elif what == "status":
    task.setStatusLine(bad)
elif what == "exception":
    raise Exception(bad)
elif what == "exit":
    sys.exit(bad)
elif what == "output":
    result = bad
elif what == "list":
    items = ["fine", bad]
