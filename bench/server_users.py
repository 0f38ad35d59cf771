"""bench/server_users.py - makes users on an e2e-server for bench/server.sh.

    server_users.py HOST PORT PREFIX COUNT OUT

Signs up COUNT users named PREFIX0000, PREFIX0001, ... (password "bench
pw of " and the name: longer than the server's --min-password) and signs
each in, over one kept-alive connection, and writes
"NAME TOKEN" lines to OUT. Standard library only.
"""
import http.client
import json
import sys


def call(conn, path, body):
    conn.request("POST", path, body=json.dumps(body),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        sys.exit(f"server_users.py: {path} answered {resp.status}: "
                 f"{data[:200]!r}")
    return json.loads(data)


def main(argv):
    host, port, prefix, count, out = argv[1:6]
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    lines = []
    for i in range(int(count)):
        name = f"{prefix}{i:04d}"
        cred = {"name": name, "password": "bench pw of " + name}
        call(conn, "/users/signup", cred)
        tok = call(conn, "/users/signin", cred)["token"]
        lines.append(f"{name} {tok}\n")
    conn.close()
    with open(out, "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main(sys.argv)
