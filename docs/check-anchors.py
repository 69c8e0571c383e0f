#!/usr/bin/env python3
"""mdBook preprocessor: every {{#include}} must name an existing file and,
when it names an anchor, a file that has that `ANCHOR:` marker. Line-number
ranges are refused: code is pulled by anchor only, so it cannot drift.

mdBook itself renders a missing anchor as nothing and still succeeds; this
makes the build fail instead. The book passes through unchanged.
"""
import json
import os
import re
import sys

INCLUDE = re.compile(r"\{\{\s*#(?:include|rustdoc_include)\s+([^}\s]+)\s*\}\}")


def chapters(node):
    """Yields every chapter object anywhere in the book JSON."""
    if isinstance(node, dict):
        if "content" in node and ("source_path" in node or "path" in node):
            yield node
        for value in node.values():
            yield from chapters(value)
    elif isinstance(node, list):
        for value in node:
            yield from chapters(value)


def check(src_dir, chapter):
    source = chapter.get("source_path") or chapter.get("path") or ""
    base = os.path.dirname(os.path.join(src_dir, source))
    for match in INCLUDE.finditer(chapter["content"]):
        target = match.group(1)
        path, _, anchor = target.partition(":")
        full = os.path.normpath(os.path.join(base, path))
        where = f"{source}: {{{{#include {target}}}}}"
        if not os.path.isfile(full):
            yield f"{where}: no file {full}"
            continue
        if not anchor:
            continue
        if re.fullmatch(r"[0-9:]*", anchor):
            yield f"{where}: line numbers drift; use an ANCHOR marker"
            continue
        with open(full, encoding="utf-8") as f:
            text = f.read()
        if not re.search(r"ANCHOR:\s*" + re.escape(anchor) + r"\b", text):
            yield f"{where}: no `ANCHOR: {anchor}` in {full}"
        elif not re.search(r"ANCHOR_END:\s*" + re.escape(anchor) + r"\b", text):
            yield f"{where}: no `ANCHOR_END: {anchor}` in {full}"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        sys.exit(0)  # any renderer
    context, book = json.load(sys.stdin)
    src_dir = os.path.join(context["root"], context["config"]["book"].get("src", "src"))
    errors = [e for chapter in chapters(book) for e in check(src_dir, chapter)]
    if errors:
        for error in errors:
            print(f"check-anchors: {error}", file=sys.stderr)
        sys.exit(1)
    json.dump(book, sys.stdout)


if __name__ == "__main__":
    main()
