"""Replaces one benchmark's section of a Markdown file (docs/BENCHMARKS.md) with stdin.

    python3 bench/write_section.py FILE NAME < section.md

The section lies between <!-- NAME:begin --> and <!-- NAME:end -->; it is appended when the file
has none yet, so each benchmark owns only its own part of the file.
"""
import os
import sys


def write_section(report, name, body):
    begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->\n"
    text = open(report).read() if os.path.exists(report) else "# Benchmarks\n\n"
    if begin not in text:
        text = text.rstrip("\n") + "\n\n" + begin + end
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    with open(report, "w") as out:
        out.write(head + begin + body + end + tail)


if __name__ == "__main__":
    write_section(sys.argv[1], sys.argv[2], sys.stdin.read())
