#!/usr/bin/env python3
"""Checks the book, two ways, with one set of rules.

As an mdBook preprocessor (book.toml runs it before `links`): every
{{#include}} must name an existing file and, when it names an anchor, a file
with that `ANCHOR:` and `ANCHOR_END:` marker. Line-number ranges are
refused: code is pulled by anchor only, so it cannot drift. mdBook itself
renders a missing anchor as nothing and still succeeds; this makes the
build fail instead. The book passes through unchanged.

As a command, `check-book.py check SRC_DIR` (run by `cargo test`, see
conformance/tests/book.rs), with no mdBook needed:
- every chapter SUMMARY.md lists exists;
- every {{#include}} in every chapter passes the rule above;
- every relative link and image in a chapter leads somewhere: the file
  exists, and a `#fragment` names a heading of the page it points to (ids
  made the way mdBook makes them);
- no "What it costs" section types a figure a run produced (a number with a
  unit, a ratio, a share, a decimal) in its prose: its figures are the
  included tables of `bench compare`, and the prose reads them;
- every exercise has a solution (one `<details>` per exercise, under
  `## Solutions` on the lesson's reference page, LESSON-reference.md), and
  every code exercise's patch (docs/solutions/) is included in its
  solution;
- every included table has a caption (`*Table: ...*`, the paragraph just
  before it) and stands as a block of its own (alone on its line, at its
  start, blank lines around it): indented, or inside a list, it would
  render as raw `| --- |` text;
- the course fits its reader: Start here at most 1,500 rendered words, a
  lesson (a chapter SUMMARY.md lists under `# Lessons`) at most 2,500,
  both together at most 30,000, words counted as rendered (includes
  resolved, code and tables counted); and every lesson has a
  `## Check yourself` of three numbered questions, each with a folded
  `<details><summary>Answer</summary>`.
It prints one line per fault and exits 1 if there is any.

`check-book.py words SRC_DIR` prints each chapter's rendered words, the
path through Start here and the lessons, and the whole book.

`check-book.py check-html BOOK_DIR` does the same for the rendered book
(`.ci/run` runs it after `mdbook build docs`): every relative `href` and
`src` of every page leads to a file, and every `#fragment` to an id on it.
"""
import json
import os
import re
import sys

INCLUDE = re.compile(r"\{\{\s*#(?:include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
# [text](target) and ![alt](target), not inside code spans.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def anchor_marker(name, end=False):
    """The marker line for `name`, not matching a longer name (`epoll` is
    not `epoll-mio`)."""
    word = "ANCHOR_END" if end else "ANCHOR"
    return re.compile(word + r":\s*" + re.escape(name) + r"(?![\w-])")


def include_faults(base, source, content):
    """The faults of every {{#include}} in `content`, a chapter in `base`."""
    for match in INCLUDE.finditer(content):
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
        if not anchor_marker(anchor).search(text):
            yield f"{where}: no `ANCHOR: {anchor}` in {full}"
        elif not anchor_marker(anchor, end=True).search(text):
            yield f"{where}: no `ANCHOR_END: {anchor}` in {full}"


ANCHOR_LINE = re.compile(r"ANCHOR(?:_END)?:")


def resolve(base, content, depth=0):
    """`content` (a page in `base`) with every {{#include}} replaced by what
    mdBook puts there: the file, or the lines between its `ANCHOR:` and
    `ANCHOR_END:` markers, with every marker line dropped. A fault is left
    to include_faults: an include that does not resolve becomes nothing."""
    def included(match):
        path, _, anchor = match.group(1).partition(":")
        full = os.path.normpath(os.path.join(base, path))
        if depth > 10 or not os.path.isfile(full):
            return ""
        with open(full, encoding="utf-8") as f:
            text = f.read()
        lines = text.splitlines(True)
        if anchor:
            begins = [i for i, line in enumerate(lines) if anchor_marker(anchor).search(line)]
            ends = [i for i, line in enumerate(lines) if anchor_marker(anchor, end=True).search(line)]
            if not begins or not ends:
                return ""
            lines = lines[begins[0] + 1 : ends[0]]
        text = "".join(line for line in lines if not ANCHOR_LINE.search(line))
        return resolve(os.path.dirname(full), text, depth + 1)
    return INCLUDE.sub(included, content)


WORD = re.compile(r"[^\s|]*[A-Za-z0-9][^\s|]*")


def rendered_words(base, content):
    """The words a reader sees on the rendered page: the page with its
    includes resolved, code and tables included (a reader reads them too),
    without HTML comments and tags, Markdown marks or table rules."""
    text = resolve(base, content)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>\n]+>", " ", text)
    text = re.sub(r"^\s*\|?\s*:?-{3,}.*$", " ", text, flags=re.M)  # a table's rule
    text = re.sub(r"^```.*$", " ", text, flags=re.M)
    return len(WORD.findall(text))


def heading_ids(markdown):
    """The ids mdBook gives the headings of a page: the heading's text,
    lower-cased, spaces to `-`, only letters, digits, `_` and `-` kept, and
    `-1`, `-2`, ... after a repeat."""
    ids, seen = set(), {}
    outside_code = FENCE.sub("", markdown)  # a `# comment` in code is no heading
    for _, text in HEADING.findall(outside_code):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link: its text
        base = "".join(
            c.lower() if c.isalnum() or c in "_-" else "-" if c.isspace() else ""
            for c in text
        )
        n = seen.get(base, 0)
        seen[base] = n + 1
        ids.add(base if n == 0 else f"{base}-{n}")
    return ids


def link_faults(src_dir, source, content):
    """The relative links and images of `content` (chapter `source`) that
    lead nowhere."""
    base = os.path.dirname(os.path.join(src_dir, source))
    for match in LINK.finditer(CODE.sub("", content)):
        target = match.group(1)
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        full = os.path.normpath(os.path.join(base, path)) if path else os.path.join(src_dir, source)
        where = f"{source}: link {target}"
        if not os.path.exists(full):
            yield f"{where}: no file {full}"
            continue
        if fragment and full.endswith(".md"):
            with open(full, encoding="utf-8") as f:
                if fragment not in heading_ids(f.read()):
                    yield f"{where}: no heading #{fragment} in {full}"


# A measured figure as prose would type it: a number with a unit of time,
# size, rate or share, a ratio, or any decimal number. Scenario parameters
# are written as code (`/delay/100`, `--stack-size 8192`) or in words.
FIGURE = re.compile(
    r"(?<![\w/.\-])\d[\d,]*(?:\.\d+)?\s*"
    r"(?:×|x\b|%|µs\b|us\b|ms\b|ns\b|s\b|KB\b|kB\b|KiB\b|MB\b|MiB\b|GB\b|B\b|bytes\b"
    r"|req/s|requests/s|msg/s|messages/s|MB/s)"
    r"|(?<![\w/.\-])\d+\.\d+(?![\w.])"
)
# What is not prose: code, includes, comments, and the targets of links.
NOT_PROSE = re.compile(
    r"```.*?```|`[^`\n]*`|\{\{#[^}]*\}\}|<!--.*?-->|\]\([^)]*\)", re.S
)


def typed_figure_faults(source, content):
    """Figures typed into a "What it costs" section, where every figure
    must come from a run and be included (the tables `bench compare`
    writes), so that the prose reads figures and never retypes them."""
    for section in re.finditer(r"^(#+) What it costs(?:, in full)?\s*$(.*?)(?=^#{1,2} |\Z)", content, re.S | re.M):
        prose = NOT_PROSE.sub(" ", section.group(2))
        for match in FIGURE.finditer(prose):
            line = prose[: match.start()].count("\n")
            text = prose.splitlines()[line].strip() if prose.splitlines() else ""
            yield f"{source}: a typed figure {match.group(0)!r} in What it costs: {text[:80]!r}"


def solution_faults(src_dir, source, content):
    """An "Exercises" section whose exercises do not each have a solution:
    a `<details>` whose summary is "Solution to exercise N", one per
    exercise, in order, in the "Solutions" section after it. A code
    exercise's solution is a patch, `docs/solutions/CHAPTER-N.patch`: an
    exercise marked **Change the code:** must have one, and every patch
    there must be included in its solution."""
    exercises = re.search(r"^## Exercises\s*$(.*?)(?=^#{1,2} |\Z)", content, re.S | re.M)
    if not exercises:
        return
    items = re.findall(r"^(\d+)\. (.*?)(?=^\d+\. |\Z)", exercises.group(1), re.S | re.M)
    # A lesson's solutions are on its reference page, LESSON-reference.md,
    # under "## Solutions"; a page without one keeps them after its
    # exercises, under "### Solutions".
    reference = os.path.join(src_dir, os.path.splitext(source)[0] + "-reference.md")
    if os.path.isfile(reference):
        with open(reference, encoding="utf-8") as f:
            answers = re.search(r"^## Solutions\s*$(.*?)(?=^#{1,2} |\Z)", f.read(), re.S | re.M)
        where = os.path.basename(reference)
    else:
        answers = re.search(r"^### Solutions\s*$(.*?)(?=^#{1,2} |\Z)", content, re.S | re.M)
        where = source
    found = re.findall(r"<details>\s*<summary>Solution to exercise (\d+)</summary>(.*?)</details>",
                       answers.group(1) if answers else "", re.S)
    numbers = [int(n) for n, _ in items]
    if [int(n) for n, _ in found] != numbers:
        yield (f"{source}: exercises {numbers}, but solutions for {[int(n) for n, _ in found]}"
               f" in {where} (a Solutions section with one `<details><summary>Solution to exercise N</summary>`"
               " per exercise)")
    chapter = os.path.splitext(os.path.basename(source))[0]
    patches = os.path.join(src_dir, "..", "solutions")
    solved = dict(found)
    for number, text in items:
        name = f"{chapter}-{number}.patch"
        exists = os.path.isfile(os.path.join(patches, name))
        if "**Change the code:**" in text and not exists:
            yield f"{source}: exercise {number} changes the code, and docs/solutions/{name} does not exist"
        if exists and f"solutions/{name}" not in solved.get(number, ""):
            yield f"{source}: the solution to exercise {number} does not include docs/solutions/{name}"


# The course's limits: a lesson is read in one sitting, Start here in ten
# minutes, and the path through both in a few evenings.
LESSON_WORDS = 2500
START_WORDS = 1500
PATH_WORDS = 30000
START = "start-here.md"


def lessons(src_dir):
    """The lessons: the chapters SUMMARY.md lists under its `# Lessons` part."""
    with open(os.path.join(src_dir, "SUMMARY.md"), encoding="utf-8") as f:
        part = re.search(r"^# Lessons\s*$(.*?)(?=^# |\Z)", f.read(), re.S | re.M)
    return re.findall(r"\[[^\]]*\]\(([^)]+\.md)\)", part.group(1)) if part else []


def lesson_faults(src_dir):
    """A lesson (or Start here) longer than a sitting, the path through them
    longer than the course's, and a lesson without its three self-check
    questions, each with a folded answer."""
    path = 0
    for chapter in ([START] if os.path.isfile(os.path.join(src_dir, START)) else []) + lessons(src_dir):
        full = os.path.join(src_dir, chapter)
        if not os.path.isfile(full):
            continue  # check() reports it
        with open(full, encoding="utf-8") as f:
            content = f.read()
        words = rendered_words(os.path.dirname(full), content)
        path += words
        limit = START_WORDS if chapter == START else LESSON_WORDS
        if words > limit:
            yield f"{chapter}: {words:,} rendered words, over the {limit:,} of a sitting"
        if chapter == START:
            continue
        section = re.search(r"^## Check yourself\s*$(.*?)(?=^#{1,2} |\Z)", content, re.S | re.M)
        questions = re.findall(r"^\d+\. ", section.group(1), re.M) if section else []
        answers = re.findall(r"<details>\s*<summary>Answer</summary>.*?</details>",
                             section.group(1), re.S) if section else []
        if len(questions) != 3 or len(answers) != 3:
            yield (f"{chapter}: {len(questions)} self-check question(s) and {len(answers)} answer(s);"
                   " a lesson has a `## Check yourself` with three numbered questions, each with"
                   " `<details><summary>Answer</summary>`")
    if path > PATH_WORDS:
        yield f"Start here and the lessons: {path:,} rendered words, over the course's {PATH_WORDS:,}"


TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.M)
CAPTION = re.compile(r"^\*Table: .+\*$")


def table_include_faults(base, source, content):
    """An included table without a caption, or one that would render as
    text: a table is a block of its own, so its include stands at the start
    of a line, alone, with a blank line before and after, outside any list;
    the caption (`*Table: what, on what, the unit.*`) is the paragraph just
    before it."""
    lines = content.splitlines()
    outside_code = set()
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence:
            outside_code.add(i)
    for i, line in enumerate(lines):
        match = INCLUDE.search(line)
        if not match or i not in outside_code or not TABLE_ROW.search(resolve(base, match.group(0))):
            continue
        where = f"{source}: {{{{#include {match.group(1)}}}}}"
        if line.strip() != match.group(0) or line != line.lstrip():
            yield f"{where}: a table include stands alone at the start of its line (else it renders as text)"
            continue
        before = lines[i - 1] if i > 0 else ""
        after = lines[i + 1] if i + 1 < len(lines) else ""
        if before.strip() or after.strip():
            yield f"{where}: a table include needs a blank line before and after (else it renders as text)"
            continue
        caption = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if not CAPTION.match(caption):
            yield f"{where}: no caption (`*Table: what was measured, the unit.*` before it)"


def summary_chapters(src_dir):
    """The chapter files SUMMARY.md lists, in order."""
    with open(os.path.join(src_dir, "SUMMARY.md"), encoding="utf-8") as f:
        return [m.group(1) for m in re.finditer(r"\[[^\]]*\]\(([^)]+\.md)\)", f.read())]


def check(src_dir):
    """Every fault of the book in `src_dir`."""
    for chapter in summary_chapters(src_dir):
        full = os.path.join(src_dir, chapter)
        if not os.path.isfile(full):
            yield f"SUMMARY.md: no chapter {chapter}"
            continue
        with open(full, encoding="utf-8") as f:
            content = f.read()
        yield from include_faults(os.path.dirname(full), chapter, content)
        yield from link_faults(src_dir, chapter, content)
        yield from typed_figure_faults(chapter, content)
        yield from solution_faults(src_dir, chapter, content)
        yield from table_include_faults(os.path.dirname(full), chapter, content)
    yield from lesson_faults(src_dir)


def html_faults(book_dir):
    """The rendered book's relative links (href and src) that lead nowhere:
    a missing page or file, or a `#fragment` with no such id on the page.
    mdBook's own assets (the theme's scripts and fonts) are checked too."""
    ids, links = {}, []
    for folder, _, files in os.walk(book_dir):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                page = f.read()
            ids[os.path.normpath(path)] = set(re.findall(r'\bid="([^"]+)"', page))
            for target in re.findall(r'\b(?:href|src)="([^"]+)"', page):
                links.append((path, target))
    for page, target in links:
        if re.match(r"[a-z]+:|//", target) or target.startswith("{{"):
            continue  # http:, mailto:, javascript:, ...
        path, _, fragment = target.partition("#")
        path = path.split("?")[0]
        full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else os.path.normpath(page)
        where = f"{os.path.relpath(page, book_dir)}: {target}"
        if not os.path.exists(full):
            yield f"{where}: no file"
        elif fragment and full in ids and fragment not in ids[full]:
            yield f"{where}: no id #{fragment}"


def chapters(node):
    """Yields every chapter object anywhere in mdBook's book JSON."""
    if isinstance(node, dict):
        if "content" in node and ("source_path" in node or "path" in node):
            yield node
        for value in node.values():
            yield from chapters(value)
    elif isinstance(node, list):
        for value in node:
            yield from chapters(value)


def preprocess():
    """mdBook's side: the book JSON on stdin, the same book on stdout."""
    context, book = json.load(sys.stdin)
    src_dir = os.path.join(context["root"], context["config"]["book"].get("src", "src"))
    errors = []
    for chapter in chapters(book):
        source = chapter.get("source_path") or chapter.get("path") or ""
        base = os.path.dirname(os.path.join(src_dir, source))
        errors.extend(include_faults(base, source, chapter["content"]))
    if errors:
        for error in errors:
            print(f"check-book: {error}", file=sys.stderr)
        sys.exit(1)
    json.dump(book, sys.stdout)


def word_counts(src_dir):
    """(chapter, rendered words) for every chapter SUMMARY.md lists."""
    for chapter in summary_chapters(src_dir):
        full = os.path.join(src_dir, chapter)
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as f:
                yield chapter, rendered_words(os.path.dirname(full), f.read())


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        sys.exit(0)  # any renderer
    if len(sys.argv) == 3 and not os.path.isfile(os.path.join(sys.argv[2], "SUMMARY.md")) \
            and sys.argv[1] in ("check", "words"):
        print(f"check-book: {os.path.join(sys.argv[2], 'SUMMARY.md')}: no such file (is {sys.argv[2]} a book's src?)")
        sys.exit(2)
    if len(sys.argv) == 3 and sys.argv[1] == "words":
        total, path = 0, 0
        course = [START] + lessons(sys.argv[2])
        for chapter, words in word_counts(sys.argv[2]):
            total += words
            path += words if chapter in course else 0
            print(f"{words:7,}  {chapter}")
        print(f"{path:7,}  Start here and the lessons")
        print(f"{total:7,}  the whole book")
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] in ("check", "check-html"):
        faults = list((check if sys.argv[1] == "check" else html_faults)(sys.argv[2]))
        for fault in faults:
            print(f"check-book: {fault}")
        sys.exit(1 if faults else 0)
    preprocess()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # `words ... | head`: the reader has what it wanted
        sys.exit(0)
