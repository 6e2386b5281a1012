"""A real SMTP server for the tests (aiosmtpd).

Records every message it accepts as one JSON file in --out: envelope sender
and recipients, headers, body, whether the session used STARTTLS and which
login authenticated. Prints "READY" once it accepts connections.

  python smtp_server.py --port 2525 --out DIR [--user U --password P]
                        [--cert CERT --key KEY [--require-tls]]
"""

import argparse
import email
import email.policy
import json
import os
import ssl
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def login(session):
    data = getattr(session, "auth_data", None)
    return data.login.decode() if isinstance(data, LoginPassword) else None


class Recorder:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        queue_id = uuid.uuid4().hex[:12]
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k.lower(): str(v) for k, v in msg.items()},
            "body": msg.get_content(),
            "tls": session.ssl is not None,
            "login": login(session),
            "queue_id": queue_id,
        }
        tmp = os.path.join(self.out, f".{queue_id}.tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, f"{queue_id}.json"))
        return f"250 2.0.0 Ok: queued as {queue_id}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-tls", action="store_true")
    a = p.parse_args()

    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs["tls_context"] = ctx
        kwargs["require_starttls"] = a.require_tls
    if a.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == a.user
                and auth_data.password.decode() == a.password
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # Plain-text AUTH is allowed only when the test runs without TLS.
        kwargs["auth_require_tls"] = bool(a.cert)
    controller = Controller(Recorder(a.out), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("READY", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
