"""`minutes eval GOLD_DIR DOCS_DIR`: score the parser against gold annotations, per document and field.

The tool a user runs after annotating a new layout: for every `NAME.json` in GOLD_DIR it parses the
document the gold names (`"file"`, looked up in DOCS_DIR) from its original bytes, and prints what
failed with the gold value beside the parsed one. A document the parser refuses (`layout not
recognised: …`) is listed with its reason and scored as the corpus scorer scores a command without
output: against an empty prediction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from services.parser.core import DocumentError, parse_document
from services.parser.evaluation import DocumentScore, score_document, total

_VALUE_WIDTH = 160


def evaluate(gold_dir: Path, docs_dir: Path, minimum: float, as_json: bool, show_all: bool) -> int:
    """Score every gold file; exit 0 when the overall share reaches `minimum`, 1 below, 2 on bad input."""
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    golds = sorted(gold_dir.glob("*.json"))
    if not golds:
        Console(stderr=True).print(f"error: no gold files (*.json) in {gold_dir}")
        return 2
    scores: list[DocumentScore] = []
    for path in golds:
        try:
            gold = json.loads(path.read_text(encoding="utf-8"))
            doc = docs_dir / gold["file"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            Console(stderr=True).print(f"error: {path.name} is not a gold file: {exc}")
            return 2
        scores.append(_score_one(gold, doc))
    passed, checks = total(scores)
    share = passed / checks if checks else 0.0
    refused = [s for s in scores if s.error]
    if as_json:
        print(json.dumps({"documents": [_as_dict(s) for s in scores], "passed": passed, "checks": checks,
                          "score": round(share, 4), "refused": [{"file": s.file, "reason": s.error} for s in refused]},
                         ensure_ascii=False))
    else:
        for score in scores:
            _print(console, score, show_all)
        if refused:
            console.print(f"[red]{len(refused)} of {len(scores)} documents refused "
                          "(their checks scored as empty):[/red]")
            for score in refused:
                console.print(f"   {escape(score.file)}: {escape(score.error or '')}")
        console.print(f"score {share:.3f} ({passed}/{checks} checks)")
    return 0 if share >= minimum else 1


def _score_one(gold: dict[str, Any], doc: Path) -> DocumentScore:
    try:
        parsed = parse_document(doc.read_bytes(), doc.name).model_dump(mode="json")
        return score_document(gold, parsed)
    except OSError as exc:
        return score_document(gold, {}, error=f"cannot read {doc}: {exc.strerror or exc}")
    except DocumentError as exc:
        return score_document(gold, {}, error=f"rejected: {exc}")


def _print(console: Console, score: DocumentScore, show_all: bool) -> None:
    colour = "green" if not score.failed else ("yellow" if score.share >= 0.95 else "red")
    console.print(f"[{colour}]{escape(score.file)}: {score.passed}/{len(score.checks)} ({score.share:.3f})[/{colour}]")
    if score.error:
        console.print(f"   [red]{escape(score.error)}[/red]")
        return
    missing: set[str] = set()
    for check in score.checks if show_all else score.failed:
        prefix = check.name.rsplit(" ", 1)[0]
        if prefix in missing:
            continue  # the fields of an item that was not found: said once, by `item N found`
        if check.name.endswith(" found") and not check.ok:
            missing.add(prefix)
        mark = "ok  " if check.ok else "FAIL"
        console.print(f"   {mark} {escape(check.name)}")
        if not check.ok:
            console.print(f"        gold:   {escape(_short(check.gold))}")
            console.print(f"        parsed: {escape(_short(check.parsed))}")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _as_dict(score: DocumentScore) -> dict[str, Any]:
    return {
        "file": score.file, "passed": score.passed, "checks": len(score.checks), "error": score.error,
        "failed": [{"check": c.name, "gold": c.gold, "parsed": c.parsed} for c in score.failed],
    }
