#!/usr/bin/env python3
"""
style.py - checks C files against .clang-format, the rules clang-format
can state for this code (STYLE.md 13), without its line wrapping.

The code is written in OpenBSD's style(9): a long statement fills each
line, then continues on the next, 4 columns deeper. clang-format chooses
its own breaks (and indents nested parentheses deeper), and aligns
trailing comments its own way, so a whole-file `clang-format --dry-run`
would report most wrapped statements of the tree. This script runs
clang-format on each file and compares its output with the file gap by
gap: clang-format changes only whitespace, so both hold the same
characters between the gaps. A difference is reported when it is in:

  - the spacing within a line ("if (", "a = b", "char *p", "(type)x",
    "f(a, b)", no space before ";"), except before a trailing comment;
  - the indentation of a line that starts a statement, declaration,
    label or brace (tabs, one per level; case labels at the switch's
    level);
  - a line break that opens or closes a statement line: the function's
    "{" on a line of its own and its return type on the line before its
    name, "{" of a control statement on the same line, "} else {", one
    statement a line, no short function, if or loop on one line;
  - blank lines (at most one in a row) and trailing whitespace.

Not checked: where a statement too long for one line is broken, how far
its continuation lines are indented, and how trailing comments are
aligned. Lines longer than 80 columns are counted per file by lint.sh.

Usage: style.py [--clang-format PROG] [--config FILE] FILE...
(the config defaults to the .clang-format beside scripts/)
Prints FILE:LINE: what, for each difference; exits 1 if any.
"""
import os
import re
import subprocess
import sys


def columns(ws):
    """The column reached after ws (the part after its last newline)."""
    col = 0
    for ch in ws.rsplit("\n", 1)[-1]:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def classes(s):
    """For each character of s: c (code), m (a comment), s (a string or
    character literal) or p (the rest of a preprocessor directive)."""
    out = ["c"] * len(s)
    i, n, bol, pp = 0, len(s), True, False
    while i < n:
        c = s[i]
        if s.startswith("/*", i):
            j = s.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out[i:j] = ["m"] * (j - i)
            i = j
            continue
        if s.startswith("//", i):
            j = s.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = ["m"] * (j - i)
            i = j
            continue
        if c == "\n":
            if not s.startswith("\\", i - 1):
                pp = False
            bol = True
            i += 1
            continue
        if c == "#" and bol:
            pp = True
        if c in "\"'":
            j = i + 1
            while j < n and s[j] != c and s[j] != "\n":
                j += 2 if s[j] == "\\" else 1
            j = min(j + 1, n)
            out[i:j] = ["p" if pp else "s"] * (j - i)
            i, bol = j, False
            continue
        if pp:
            out[i] = "p"
        if c not in " \t":
            bol = False
        i += 1
    return out


TYPE_BODY = re.compile(r"\b(enum|struct|union)(\s+\w+)?\s*$")


class Text:
    """The non-space characters of a C file, with the whitespace before
    each (its gap), its class and line, and there: the depth of braces
    that indent (a body, or any brace that ends its line), the depth of
    parentheses, whether the innermost brace holds a list (an
    initializer, a compound literal, or a type's body written inline),
    whose line breaks are free, and whether the character is a brace of
    a body."""

    def __init__(self, s):
        cls = classes(s)
        self.chars, self.gaps, self.cls, self.line = [], [], [], []
        self.depth, self.parens, self.init, self.block = [], [], [], []
        depth, parens, line, start = 0, 0, 1, 0
        braces = []         # open braces: (indents?, body?, list?)
        last = ""           # the last code character
        for i, c in enumerate(s):
            if c in " \t\n\r\f\v" or s.startswith("\\\n", i):
                if c == "\n":
                    line += 1
                continue
            code = cls[i] == "c"
            brace = None
            if code and c == "}" and braces:
                brace = braces.pop()
                depth -= brace[0]
            if code and c == ")":
                parens = max(parens - 1, 0)
            if code and c == "{":
                end = s.find("\n", i)
                rest = s[i + 1:end if end >= 0 else None].strip()
                ends = rest == "" or rest.startswith("/*")
                inline_type = not ends and \
                    TYPE_BODY.search(s[max(0, i - 80):i]) is not None
                is_list = (last in "=,{" or (last == ")" and parens > 0) or
                           inline_type or
                           (bool(braces) and braces[-1][2]))
                brace = (ends or not is_list, not is_list, is_list)
            self.chars.append(c)
            self.gaps.append(s[start:i])
            self.cls.append(cls[i])
            self.line.append(line)
            self.depth.append(depth)
            self.parens.append(parens)
            inner = brace if brace is not None and c == "}" else \
                (braces[-1] if braces else None)
            self.init.append(inner is not None and inner[2])
            self.block.append(brace is not None and brace[1])
            if code and c == "{":
                braces.append(brace)
                depth += brace[0]
            if code and c == "(":
                parens += 1
            if code:
                last = c
            start = i + 1
        self.tail = s[start:]


def check(path, prog, config):
    src = open(path, encoding="utf-8").read()
    out = subprocess.run([prog, "--style=file:" + config,
                          "--assume-filename=" + path],
                         input=src, capture_output=True, text=True,
                         check=True).stdout
    a, b = Text(src), Text(out)
    if a.chars != b.chars:
        return ["%s:1: clang-format changed more than whitespace" % path]
    problems = []

    def report(i, what):
        problems.append("%s:%d: %s" % (path, a.line[i], what))

    for i in range(len(a.chars)):
        # The backslashes that continue a macro may be aligned freely.
        wa = re.sub(r"[ \t]*\\\n", "\\\n", a.gaps[i])
        wb = re.sub(r"[ \t]*\\\n", "\\\n", b.gaps[i])
        if wa == wb:
            continue
        if a.cls[i] == "p" and i > 0 and a.cls[i - 1] in "pm":
            continue        # inside a directive (a macro's body)
        ch = a.chars[i]
        prev = a.chars[i - 1] if i > 0 else "\n"
        prev_code = i > 0 and a.cls[i - 1] == "c"
        stmt = a.depth[i] * 8
        nl_a, nl_b = "\n" in wa, "\n" in wb
        if not nl_a and not nl_b:
            if a.cls[i] == "m" and wa != "" and wb != "":
                continue    # before a trailing comment: alignment is free
            if wa == " " and wb != "":
                continue    # clang-format aligns: a space is enough
            report(i, "spacing before '%s': %r, clang-format %r"
                   % (ch, wa, wb))
            continue
        if nl_a and nl_b:
            la, lb = wa.split("\n"), wb.split("\n")
            if la[0] != lb[0]:
                problems.append("%s:%d: trailing whitespace"
                                % (path, a.line[i] - wa.count("\n")))
            if len(la) != len(lb):
                report(i, "blank lines before this line")
            if la[0] != lb[0] or len(la) != len(lb):
                continue
            ca, cb = columns(wa), columns(wb)
            if ca == cb:
                report(i, "indentation: tabs, then spaces")
            elif (ca > stmt and cb > stmt) or a.init[i]:
                continue    # continuation lines, lists: indent is free
            else:
                report(i, "indentation: column %d, clang-format %d"
                       % (ca, cb))
            continue
        # One side breaks the line here, the other does not.
        if a.init[i]:
            continue        # an initializer's list: its lines are free
        col = columns(wa if nl_a else wb)
        structural = (col <= stmt or (ch in "{}" and a.block[i]) or
                      (prev_code and a.parens[i] == 0 and
                       (prev in ";)" or (prev in "{}" and a.block[i - 1]))))
        if structural:
            report(i, "line break before '%s': clang-format %s"
                   % (ch, "breaks" if nl_b else "does not break"))
    if a.tail != b.tail:
        problems.append("%s:%d: end of file" % (path, a.line[-1]))
    return problems


def main(argv):
    prog = "clang-format"
    config = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", ".clang-format")
    while len(argv) > 1 and argv[0] in ("--clang-format", "--config"):
        if argv[0] == "--clang-format":
            prog = argv[1]
        else:
            config = argv[1]
        argv = argv[2:]
    problems = []
    for path in argv:
        problems += check(path, prog, config)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
