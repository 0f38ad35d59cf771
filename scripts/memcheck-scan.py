#!/usr/bin/env python3
"""Scans valgrind memcheck's XML reports (scripts/memcheck.sh).

Usage: memcheck-scan.py FOLDER
Reads every FOLDER/*.xml; prints each error (a memory error, or a
definite leak: valgrind reports only those, as errors, with the options
memcheck.sh gives it) with its stacks; exits 1 when there is any, or when
there is no report at all (then the wrappers were not used: nothing was
checked), 0 otherwise. A report cut short (a process killed with
SIGKILL) still counts: each <error> element is parsed on its own.
"""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

ERROR = re.compile(r"<error>.*?</error>", re.S)


def frames(stack):
    out = []
    for fr in stack.findall("frame"):
        fn = fr.findtext("fn") or fr.findtext("ip") or "?"
        where = fr.findtext("file")
        if where:
            where = "%s:%s" % (where, fr.findtext("line") or "?")
        else:
            where = os.path.basename(fr.findtext("obj") or "?")
        out.append("    %s (%s)" % (fn, where))
    return out


def describe(err):
    what = err.findtext("what") or err.findtext("xwhat/text") or "?"
    lines = ["  %s: %s" % (err.findtext("kind") or "?", what)]
    # The stacks in order, each after the line that says what it is.
    for child in err:
        if child.tag == "stack":
            lines += frames(child)
        elif child.tag == "auxwhat" and child.text:
            lines.append("  " + child.text)
        elif child.tag == "xauxwhat":
            lines.append("  " + (child.findtext("text") or ""))
    return lines


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: memcheck-scan.py FOLDER\n")
        return 64
    reports = sorted(glob.glob(os.path.join(sys.argv[1], "*.xml")))
    if not reports:
        print("memcheck: no valgrind report in %s: nothing was checked"
              % sys.argv[1])
        return 1
    bad = 0
    for path in reports:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        found = ERROR.findall(text)
        if not found:
            continue
        cmd = re.search(r"<argv>\s*<exe>(.*?)</exe>", text)
        print("memcheck: %s (%s): %d error(s)"
              % (path, cmd.group(1) if cmd else "?", len(found)))
        for chunk in found:
            bad += 1
            try:
                err = ET.fromstring(chunk)
            except ET.ParseError:
                print("  (an error valgrind did not finish writing)")
                continue
            print("\n".join(describe(err)))
    print("memcheck: %d report(s), %d error(s) or definite leak(s)"
          % (len(reports), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
