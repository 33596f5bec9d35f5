# Reads the ticket; while it is pending, sets the status line and polls again pollInterval seconds later.
import json
import sys

response = HttpRequest(server).get("/api/tickets/%s" % ticket, contentType="application/json")
if response.getStatus() == 404:
    sys.exit("Ticket %s does not exist" % ticket)
data = json.loads(response.getResponse())
if data["state"] == "pending":
    task.setStatusLine("Ticket %s: waiting for approval" % ticket)
    task.schedule("tickets/WaitForApproval.py", pollInterval)
elif data["state"] == "approved":
    approver = data["approver"]
    task.setStatusLine("Ticket %s: approved by %s" % (ticket, approver))
else:
    raise Exception("Ticket %s was %s by %s" % (ticket, data["state"], data["approver"]))
