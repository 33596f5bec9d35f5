"""tickets.WaitForApproval against a fake of the tickets API, written here: a small HTTP server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeTickets:
    """GET /api/tickets/<id>: ``pending`` for the first ``pending_polls`` reads, then the ticket's decision.
    Each answer takes ``latency`` seconds of the harness's virtual clock (and no real time)."""

    def __init__(self, clock, latency=1.5):
        self.clock = clock
        self.latency = latency
        self.tickets = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, ticket, state, approver, pending_polls=0):
        self.tickets[ticket] = {"state": state, "approver": approver, "pending": pending_polls}

    def read(self, ticket):
        self.clock.advance(self.latency)
        found = self.tickets.get(ticket)
        if found is None:
            return 404, {"error": f"no ticket {ticket}"}
        if found["pending"] > 0:
            found["pending"] -= 1
            return 200, {"state": "pending"}
        return 200, {"state": found["state"], "approver": found["approver"]}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body = fake.read(self.path.rsplit("/", 1)[-1])
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):
                pass

        return Handler


@pytest.fixture
def tickets(xlr_harness):
    fake = FakeTickets(xlr_harness.clock)
    xlr_harness.ci("tickets", "tickets.Server", url=fake.url, username="bot", password="s3cret")
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_waits_until_the_ticket_is_approved(xlr_harness, tickets):
    tickets.add("T-1", "approved", "alice", pending_polls=2)
    outcome = xlr_harness.run("tickets.WaitForApproval", {"server": "tickets", "ticket": "T-1"})

    assert outcome.status == "completed", outcome.log_text
    assert outcome.outputs == {"approver": "alice"}
    first, second, third = outcome.runs  # read, read again 10 s later, and again
    assert [run.script_path for run in outcome.runs] == ["tickets/WaitForApproval.py"] * 3
    assert [run.outcome for run in outcome.runs] == ["succeeded"] * 3
    assert [run.duration for run in outcome.runs] == [1.5] * 3  # the fake's latency, on the virtual clock
    assert second.started_at - first.ended_at == 10  # pollInterval, never waited for
    assert [(change.text, change.time) for change in outcome.status_lines] == [
        ("Ticket T-1: waiting for approval", first.ended_at),  # the second poll set the same line: no change
        ("Ticket T-1: approved by alice", third.ended_at),
    ]


def test_a_rejected_ticket_fails_the_task_with_the_script_traceback(xlr_harness, tickets):
    tickets.add("T-2", "rejected", "bob")
    outcome = xlr_harness.run("tickets.WaitForApproval", {"server": "tickets", "ticket": "T-2"})

    assert outcome.status == "failed"
    assert outcome.failure.endswith("WaitForApproval.py:16: Exception: Ticket T-2 was rejected by bob")
    assert 'tickets/WaitForApproval.py", line 16, in <module>' in outcome.traceback
    assert outcome.traceback.endswith("Exception: Ticket T-2 was rejected by bob\n")
    assert [run.outcome for run in outcome.runs] == ["failed"]


def test_an_unknown_ticket_fails_the_task_with_its_message(xlr_harness, tickets):
    outcome = xlr_harness.run("tickets.WaitForApproval", {"server": "tickets", "ticket": "T-404"})

    assert outcome.status == "failed"
    assert outcome.failure == "Ticket T-404 does not exist"
    assert outcome.status_lines == []
    assert "s3cret" not in outcome.log_text
