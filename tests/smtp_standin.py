"""A local SMTP server for tests (RFC 5321's minimum: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).

It accepts every message, except to the addresses in `refused`: those it rejects at RCPT as Postfix
does, quoting the address ("550 5.1.1 <mari.tamm@example.ee>: Recipient address rejected: ..."), the
way a real mail server's refusal carries personal data into whatever stores it. Django's SMTP backend
then raises `smtplib.SMTPRecipientsRefused`, as in production.
"""

from __future__ import annotations

import re
import socketserver
import threading

ADDRESS = re.compile(r"<([^>]*)>")


class SmtpStandIn:
    def __init__(self, refused: set[str] | None = None):
        self.refused: set[str] = set(refused or ())
        self.messages: list[dict] = []
        standin = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self):
                self.reply("220 standin.localhost ESMTP")
                sender, recipients = None, []
                while line := self.rfile.readline():
                    command = line.decode("utf-8", "replace").strip()
                    verb = command[:4].upper()
                    if verb == "EHLO":
                        self.reply("250-standin.localhost")
                        self.reply("250 8BITMIME")
                    elif verb == "HELO":
                        self.reply("250 standin.localhost")
                    elif verb == "MAIL":
                        sender, recipients = ADDRESS.search(command).group(1), []
                        self.reply("250 2.1.0 Ok")
                    elif verb == "RCPT":
                        address = ADDRESS.search(command).group(1)
                        if address in standin.refused:
                            self.reply(
                                f"550 5.1.1 <{address}>: Recipient address rejected: "
                                "User unknown in virtual mailbox table"
                            )
                        else:
                            recipients.append(address)
                            self.reply("250 2.1.5 Ok")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk)
                        standin.messages.append({"from": sender, "to": recipients, "data": b"".join(data)})
                        self.reply("250 2.0.0 Ok: queued")
                    elif verb == "RSET":
                        sender, recipients = None, []
                        self.reply("250 2.0.0 Ok")
                    elif verb == "NOOP":
                        self.reply("250 2.0.0 Ok")
                    elif verb == "QUIT":
                        self.reply("221 2.0.0 Bye")
                        return
                    else:
                        self.reply("502 5.5.2 Error: command not recognized")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.host, self.port = self.server.server_address
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
