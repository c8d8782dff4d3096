"""A minimal client of Dovecot's auth-client socket (the protocol login processes speak):
VERSION/CPID handshake, then AUTH ... PLAIN requests, many in flight on one connection."""

import base64
import os
import socket


class AuthClient:
    def __init__(self, socket_path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(socket_path)
        self.buf = b""
        self.next_id = 1
        self.sock.sendall(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n".encode())
        while self._line() != b"DONE":
            pass

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("auth server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def send_plain(self, user, password, service="imap", rip="127.0.0.2", extra=None):
        """Queues one PLAIN request; returns its id. user/password are bytes or str."""
        rid = self.next_id
        self.next_id += 1
        u = user.encode() if isinstance(user, str) else user
        p = password.encode() if isinstance(password, str) else password
        resp = base64.b64encode(b"\0" + u + b"\0" + p).decode()
        fields = [f"service={service}", f"rip={rip}", "lip=127.0.0.1", "secured", f"resp={resp}"]
        fields += [f"{k}={v}" for k, v in (extra or {}).items()]
        self.sock.sendall(("AUTH\t%d\tPLAIN\t" % rid + "\t".join(fields) + "\n").encode())
        return rid

    def read_result(self):
        """(id, 'ok' | 'fail' | 'tempfail', fields) of the next reply."""
        while True:
            parts = self._line().decode(errors="replace").split("\t")
            if parts[0] in ("OK", "FAIL"):
                fields = parts[2:]
                if parts[0] == "OK":
                    return int(parts[1]), "ok", fields
                temp = "code=temp_fail" in fields or "temp" in fields
                return int(parts[1]), "tempfail" if temp else "fail", fields
            # CONT lines do not occur for PLAIN with an initial response

    def login(self, user, password, **kw):
        self.send_plain(user, password, **kw)
        return self.read_result()[1]

    def close(self):
        self.sock.close()
