"""Real IMAP and POP3 clients over TCP, able to connect from a chosen 127.0.0.0/8 address
(the driver treats some client addresses as webmail)."""

import imaplib
import poplib
import socket


class IMAP(imaplib.IMAP4):
    def __init__(self, port, source="127.0.0.2"):
        self._source = source
        super().__init__("127.0.0.1", port, timeout=20)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))


class POP3(poplib.POP3):
    def __init__(self, port, source="127.0.0.2"):
        self._source = source
        super().__init__("127.0.0.1", port, timeout=20)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))


def imap_login(port, user, password, source="127.0.0.2", mailbox="INBOX"):
    """(ok, detail, exists): logs in, SELECTs mailbox, returns the EXISTS count. Non-ASCII
    logins go through AUTHENTICATE PLAIN (UTF-8), which LOGIN cannot carry."""
    try:
        c = IMAP(port, source)
        try:
            if (user + password).isascii():
                c.login(user, password)
            else:
                blob = b"\0" + user.encode() + b"\0" + password.encode()
                c.authenticate("PLAIN", lambda _challenge: blob)
            typ, data = c.select(mailbox)
            if typ != "OK":
                return False, f"SELECT {mailbox}: {typ} {data}", None
            return True, "", int(data[0])
        finally:
            try:
                c.logout()
            except Exception:
                pass
    except Exception as e:  # imaplib raises on NO
        return False, str(e), None


def imap_cram_md5(port, user, password, source="127.0.0.2"):
    try:
        c = IMAP(port, source)
        try:
            c.login_cram_md5(user, password)
            return True, ""
        finally:
            try:
                c.logout()
            except Exception:
                pass
    except Exception as e:
        return False, str(e)


def pop3_login(port, user, password, source="127.0.0.2"):
    """(ok, detail, message count)"""
    try:
        c = POP3(port, source)
        try:
            c.user(user)
            c.pass_(password)
            count, _size = c.stat()
            return True, "", count
        finally:
            try:
                c.quit()
            except Exception:
                pass
    except Exception as e:
        return False, str(e), None
