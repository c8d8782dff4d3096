"""Reads and writes djb cdb files (standard hash), for tests that rewrite stores the way the
real tools do: a whole new file, then rename() over the old one."""

import os
import struct


def cdb_hash(key):
    h = 5381
    for b in key:
        h = ((h << 5) + h) & 0xffffffff ^ b
    return h


def read_records(path):
    data = open(path, "rb").read()
    end = min([struct.unpack_from("<I", data, i * 8)[0] for i in range(256)] + [len(data)])
    pos, out = 2048, []
    while pos + 8 <= end:
        klen, dlen = struct.unpack_from("<II", data, pos)
        out.append((data[pos + 8:pos + 8 + klen], data[pos + 8 + klen:pos + 8 + klen + dlen]))
        pos += 8 + klen + dlen
    return out


def hash_tables(tables, start):
    """(header, tables) of a cdb whose hash tables begin at `start`: tables[i] lists the (hash,
    record position) pairs of bucket i; each table has twice as many slots as records, as
    cdbmake writes them."""
    header = bytearray()
    tail = bytearray()
    for t in tables:
        n = len(t) * 2
        slots = [(0, 0)] * n
        for h, p in t:
            i = (h >> 8) % n
            while slots[i][1] != 0:
                i = (i + 1) % n
            slots[i] = (h, p)
        header += struct.pack("<II", start + len(tail), n)
        for h, p in slots:
            tail += struct.pack("<II", h, p)
    return bytes(header), bytes(tail)


def cdb_bytes(records):
    body = bytearray()
    tables = [[] for _ in range(256)]
    pos = 2048
    for k, v in records:
        h = cdb_hash(k)
        tables[h & 255].append((h, pos))
        rec = struct.pack("<II", len(k), len(v)) + k + v
        body += rec
        pos += len(rec)
    header, tail = hash_tables(tables, pos)
    return header + bytes(body) + tail


def write_replace(path, records, uid, gid, mode=0o600):
    """Writes path.tmp, then renames it over path (as vadduser/vmkpasswd/vmailmgr do)."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(cdb_bytes(records))
    os.chown(tmp, uid, gid)
    os.chmod(tmp, mode)
    os.rename(tmp, path)
