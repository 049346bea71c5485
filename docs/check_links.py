#!/usr/bin/env python3
"""Check that relative links in README.md and docs/*.md resolve to existing files (and, for
`file.md#anchor`, to a heading of that file, slugged as GitHub does). Exit 1 on a broken link.

    python3 docs/check_links.py
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)  # GitHub keeps letters, digits, _, -, spaces
    return s.replace(" ", "-")


def anchors(path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} +(.*)$", text, re.M)}


def main():
    bad = 0
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for md in files:
        text = re.sub(r"```.*?```", "", md.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, frag = target.partition("#")
            dest = (md.parent / path).resolve() if path else md
            if not dest.exists():
                print(f"{md.relative_to(ROOT)}: missing {target}")
                bad += 1
            elif frag and dest.suffix == ".md" and frag not in anchors(dest):
                print(f"{md.relative_to(ROOT)}: no heading #{frag} in {path or md.name}")
                bad += 1
    print(f"{len(files)} files checked, {bad} broken link(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
