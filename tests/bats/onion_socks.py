#!/usr/bin/env python3
"""A stand-in for Tor's SOCKS port in the tests (client_onion.bats).

SOCKS5 without authentication, CONNECT by host name only (what socks5h
sends: the proxy resolves the name). A name ending in .onion is
connected to 127.0.0.1:TARGET_PORT (the test's e2e-server); any other
request (an address, another name) is refused. Every request is logged,
one line each: "name HOST:PORT" or "address ..." (refused).

Usage: onion_socks.py PORTFILE LOG TARGET_PORT
"""
import os
import socket
import socketserver
import struct
import sys
import threading


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def read(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        c = self.request
        try:
            ver, n = read(c, 2)
            read(c, n)
            c.sendall(b"\x05\x00")
            ver, cmd, _, atyp = read(c, 4)
            if atyp == 3:
                host = read(c, read(c, 1)[0]).decode("ascii", "replace")
                what = "name"
            elif atyp == 1:
                host = socket.inet_ntoa(read(c, 4))
                what = "address"
            else:
                host = socket.inet_ntop(socket.AF_INET6, read(c, 16))
                what = "address"
            (port,) = struct.unpack(">H", read(c, 2))
            with open(LOG, "a") as f:
                f.write("%s %s:%d\n" % (what, host, port))
            if cmd != 1 or what != "name" or not host.endswith(".onion"):
                c.sendall(b"\x05\x04\x00\x01" + bytes(6))  # host unreachable
                return
            up = socket.create_connection(("127.0.0.1", TARGET))
            c.sendall(b"\x05\x00\x00\x01" + bytes(6))
        except (EOFError, OSError, ValueError):
            return
        t = threading.Thread(target=relay, args=(up, c), daemon=True)
        t.start()
        relay(c, up)
        t.join()
        up.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    portfile, LOG, TARGET = sys.argv[1], sys.argv[2], int(sys.argv[3])
    srv = Server(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()
