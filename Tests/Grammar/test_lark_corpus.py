"""Holds the Swift parser to the normative grammar over one shared corpus.

Every file under Tests/Fixtures/corpus/valid/ must be accepted, and every file under
Tests/Fixtures/corpus/invalid/ rejected, by BOTH

- lark, loading grammar.lark as `Lark(text, parser="lalr", lexer="basic", start="program")`,
  with the grammar's one side condition applied to the tree (`objective_direction`), and
- the Swift front end, `spak parse FILE` (exit 0 = accepted, exit 1 = syntax errors).

Run with:  .venv/bin/python -m pytest Tests/Grammar -q
The binary is $SPAK_BIN, or .build/debug/spak under the repository root (run `swift build` first).
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from lark import Lark, Tree
from lark.exceptions import LarkError

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAMMAR_PATH = REPO_ROOT / "grammar.lark"
CORPUS_DIR = REPO_ROOT / "Tests" / "Fixtures" / "corpus"
LABELS = ("valid", "invalid")
MIN_CORPUS_FILES = 150
SWIFT_TIMEOUT_S = 60


def spak_binary() -> Path:
    configured = os.environ.get("SPAK_BIN")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else (REPO_ROOT / path)
    return REPO_ROOT / ".build" / "debug" / "spak"


def corpus_files() -> list[tuple[str, Path]]:
    files = []
    for label in LABELS:
        folder = CORPUS_DIR / label
        if folder.is_dir():
            files += [(label, path) for path in sorted(folder.glob("*.spak"))]
    return files


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="basic", start="program")


def read_source(path: Path) -> str:
    # utf-8-sig drops a leading byte-order mark; newline="" keeps "\r\n" and lone "\r" as written.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return handle.read()


OBJECTIVE_DIRECTIONS = ("maximize", "minimize")


def side_condition_error(tree: Tree) -> str:
    """The grammar's side condition: an `objective_direction` NAME spells `maximize` or
    `minimize` (they are names, not keywords, so the basic lexer cannot tell them apart)."""
    for node in tree.find_data("objective_direction"):
        word = str(node.children[0])
        if word not in OBJECTIVE_DIRECTIONS:
            return f"side condition: objective direction {word!r} is not `maximize` or `minimize`"
    return ""


def lark_verdict(path: Path) -> tuple[bool, str]:
    """(accepted, error text) for lark."""
    try:
        tree = lark_parser().parse(read_source(path))
    except LarkError as error:
        return False, f"{type(error).__name__}: {error}".strip()
    error = side_condition_error(tree)
    return not error, error


def swift_verdict(path: Path) -> tuple[bool, str]:
    """(accepted, stderr) for `spak parse FILE`; any exit code but 0 or 1 fails the test."""
    binary = spak_binary()
    if not binary.is_file():
        pytest.fail(
            f"spak binary not found at {binary}; run `swift build` first "
            "(or point SPAK_BIN at a built spak).",
            pytrace=False,
        )
    try:
        result = subprocess.run(
            [str(binary), "parse", str(path)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=SWIFT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`spak parse {path.name}` did not finish within {SWIFT_TIMEOUT_S}s", pytrace=False)
    if result.returncode not in (0, 1):
        pytest.fail(
            f"`spak parse {path.name}` exited {result.returncode} (expected 0 or 1)\n"
            f"--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result.returncode == 0, result.stderr


def verdict_word(accepted: bool) -> str:
    return "ACCEPTS" if accepted else "REJECTS"


CASES = corpus_files()


@pytest.mark.parametrize(("label", "path"), CASES, ids=[path.name for _, path in CASES])
def test_lark_and_swift_agree_with_label(label: str, path: Path) -> None:
    expected = label == "valid"
    lark_ok, lark_error = lark_verdict(path)
    swift_ok, swift_stderr = swift_verdict(path)
    if lark_ok == swift_ok == expected:
        return
    if lark_ok != swift_ok:
        headline = "lark and the Swift parser DISAGREE"
    else:
        headline = f"both parsers disagree with the folder label ({label})"
    source = read_source(path)
    message = (
        f"{headline} on {label}/{path.name}\n"
        f"  expected: {verdict_word(expected)} (file is in {label}/)\n"
        f"  lark:     {verdict_word(lark_ok)}" + (f"\n    {lark_error}" if lark_error else "") + "\n"
        f"  swift:    {verdict_word(swift_ok)}"
        + (f"\n    stderr:\n{_indent(swift_stderr, 6)}" if swift_stderr.strip() else "")
        + f"\n--- {path.name} ---\n{source}"
        + (f"\n--- as a Python literal ---\n{source!r}" if not _plain(source) else "")
    )
    pytest.fail(message, pytrace=False)


def _plain(text: str) -> bool:
    return all(ch in "\n\t" or (ch.isprintable() and ord(ch) < 0x2000) for ch in text)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.rstrip("\n").splitlines())


def test_corpus_is_large_and_has_both_labels() -> None:
    counts = {label: len(list((CORPUS_DIR / label).glob("*.spak"))) for label in LABELS}
    assert counts["valid"] > 0, f"no .spak files in {CORPUS_DIR / 'valid'}"
    assert counts["invalid"] > 0, f"no .spak files in {CORPUS_DIR / 'invalid'}"
    total = sum(counts.values())
    assert total >= MIN_CORPUS_FILES, (
        f"corpus has {total} files ({counts}); expected at least {MIN_CORPUS_FILES}"
    )


def test_grammar_loads() -> None:
    assert lark_parser() is not None


LIMIT_CASES = sorted((CORPUS_DIR / "limits").glob("*.spak"))


@pytest.mark.parametrize("path", LIMIT_CASES, ids=[path.name for path in LIMIT_CASES])
def test_implementation_limits_are_the_only_divergence(path: Path) -> None:
    """Files under corpus/limits/ are grammatical but nest deeper than the Swift parser's
    documented limit (SPAKParser.nestingLimit, docs/language.md "Limits"): lark accepts them,
    and the Swift parser rejects them with E206 and nothing else."""
    lark_ok, lark_error = lark_verdict(path)
    swift_ok, swift_stderr = swift_verdict(path)
    assert lark_ok, f"lark should accept {path.name}: {lark_error}"
    assert not swift_ok, f"the Swift parser should reject {path.name} with E206"
    ids = [line.rsplit("[", 1)[-1].rstrip("]") for line in swift_stderr.splitlines() if ": error: " in line]
    assert ids == ["E206"], swift_stderr
