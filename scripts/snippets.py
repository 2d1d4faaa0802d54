#!/usr/bin/env python3
"""Keeps the code in the docs' Markdown identical to the examples it comes from.

A snippet in a Markdown file is a marker line followed by a fenced code block:

    <!-- snippet: getting_started/main.cpp fit -->
    ```cpp
    ...the lines between the two `// [fit]` lines of examples/getting_started/main.cpp...
    ```

A marker may name several regions (`<!-- snippet: quickstart/main.cpp include quickstart -->`):
the block holds each in turn, separated by a blank line.

The Markdown carries the code, so it reads anywhere (a clone, a code host, Doxygen); the
example is compiled and run by the tests, so the code works. `scripts/snippets.py --check`
(a ctest test) fails when a block differs from its example; `scripts/snippets.py` rewrites
the blocks from the examples.
"""
import argparse
import pathlib
import re
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!-- snippet: (\S+) (\S+(?: \S+)*) -->\n$")


def region(source: pathlib.Path, name: str) -> str:
    """The lines between the two `// [name]` lines of source, dedented."""
    lines = source.read_text().splitlines(keepends=True)
    tag = f"// [{name}]"
    marks = [i for i, line in enumerate(lines) if line.strip() == tag]
    if len(marks) != 2:
        raise SystemExit(f"{source}: expected two '{tag}' lines, found {len(marks)}")
    return textwrap.dedent("".join(lines[marks[0] + 1 : marks[1]]))


def process(markdown: pathlib.Path, write: bool) -> list:
    lines = markdown.read_text().splitlines(keepends=True)
    out, stale, i = [], [], 0
    while i < len(lines):
        out.append(lines[i])
        match = MARKER.match(lines[i])
        i += 1
        if not match:
            continue
        source, names = match.groups()
        if i >= len(lines) or not lines[i].startswith("```"):
            raise SystemExit(f"{markdown}:{i}: a snippet marker must be followed by a code fence")
        fence = lines[i]
        end = i + 1
        while end < len(lines) and lines[end] != "```\n":
            end += 1
        if end == len(lines):
            raise SystemExit(f"{markdown}:{i + 1}: the code block is not closed")
        expected = "\n".join(region(ROOT / "examples" / source, name) for name in names.split())
        if "".join(lines[i + 1 : end]) != expected:
            stale.append(f"{markdown.relative_to(ROOT)}:{i + 1}: '{source} {names}'")
        out.extend([fence, expected, "```\n"])
        i = end + 1
    if write and stale:
        markdown.write_text("".join(out))
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a snippet is stale")
    args = parser.parse_args()
    stale = []
    for markdown in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        stale += process(markdown, write=not args.check)
    if stale and args.check:
        print("These snippets differ from their examples (run scripts/snippets.py):")
        print("\n".join("  " + s for s in stale))
        return 1
    print(("rewrote " if stale else "up to date: ") + (", ".join(stale) or "every snippet"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
