"""Replies that hold JSON inside a fenced block (issue "[contract]", items 4 and 12): `-> x as
json`, `parse_json` and `schema:` take a ```json block first, else a plain ``` block, when
the reply as a whole is not JSON; the trace keeps the reply as it came."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_contract import CONTRACT, expect, start

FENCED = {
    "json block": ("Here:\n```json\n{\"value\": 1}\n```\nDone.", {"value": 1}),
    "plain block": ("```\n{\"value\": 2}\n```", {"value": 2}),
    "python block, then a plain one": ("```python\nx = 1\n```\nand\n```\n{\"value\": 4}\n```", {"value": 4}),
    "plain block, then a json one": ("```\n{\"value\": 5}\n```\n```json\n{\"value\": 6}\n```", {"value": 6}),
    "two json blocks": ("```json\n{\"value\": 7}\n```\n```json\n{\"value\": 70}\n```", {"value": 7}),
    "whole reply is JSON holding a fence": (json.dumps({"value": "```json\n{\"value\": 0}\n```"}),
                                            {"value": "```json\n{\"value\": 0}\n```"}),
    "a JSON array in a block": ("```json\n[1, 2]\n```", [1, 2]),
    "CRLF line endings": ("Here:\r\n```json\r\n{\"value\": 9}\r\n```\r\n", {"value": 9}),
    "CRLF, plain block": ("```\r\n{\"value\": 10}\r\n```", {"value": 10}),
}


def fenced_cases():
    for name, (reply, parsed) in FENCED.items():
        yield pytest.param(reply, parsed, id=name)


NOT_TAKEN = {
    "python block": "```python\n{\"value\": 3}\n```",
    "empty json block": "```json\n```",
    "unclosed block": "```json\n{\"value\": 3}\n",
    "no block at all": "value: 3",
}


@pytest.mark.parametrize("reply, parsed", fenced_cases())
def test_as_json_takes_a_fenced_block(tmp_path: Path, reply: str, parsed) -> None:
    run = start(tmp_path, "fenced_json.spak", answers=[reply])
    expect(run, 0)
    (answered,) = run.of_type("effect.answered")
    assert answered["result"] == reply, "the trace keeps the reply as it came"
    assert run.bound("data") == [parsed]


@pytest.mark.parametrize("reply", NOT_TAKEN.values(), ids=NOT_TAKEN.keys())
def test_as_json_refuses_a_reply_without_usable_json(tmp_path: Path, reply: str) -> None:
    run = start(tmp_path, "fenced_json.spak", answers=[reply])
    expect(run, 1)
    assert run.bound("data") == []
    assert "the result of llm.query bound to `data` is not JSON" in run.failure()["reason"]
    assert run.of_type("effect.answered")[0]["result"] == reply
    assert run.outcomes() == [("ask", "violated")]


@pytest.mark.parametrize("reply, parsed", [
    pytest.param("Sure.\n```json\n{\"value\": 1}\n```", {"value": 1}, id="json block"),
    pytest.param("```\n{\"value\": 2}\n```", {"value": 2}, id="plain block"),
    pytest.param("```python\nprint(1)\n```\n```json\n{\"value\": 3}\n```", {"value": 3}, id="python block first"),
    pytest.param("```json\r\n{\"value\": 4}\r\n```", {"value": 4}, id="CRLF line endings"),
])
def test_parse_json_takes_a_fenced_block(tmp_path: Path, reply: str, parsed) -> None:
    run = start(tmp_path, "fenced_parse_json.spak", answers=[reply])
    expect(run, 0)
    assert run.bound("reply") == [reply]
    assert run.bound("data") == [parsed]
    assert run.metrics()["metrics"] == {"value": parsed["value"]}


def test_parse_json_refuses_a_python_block(tmp_path: Path) -> None:
    run = start(tmp_path, "fenced_parse_json.spak", answers=["```python\n{\"value\": 1}\n```"])
    expect(run, 1)
    failure = run.failure()
    assert "parse_json()" in failure["reason"] and failure["step"] == "ask"
    assert failure["reason"].startswith("fenced_parse_json.spak:")


def test_a_schema_reply_in_a_fence_is_checked_and_retried(tmp_path: Path) -> None:
    run = start(tmp_path, "schema_fenced.spak", answers="schema_fenced.jsonl")
    expect(run, 0)
    retries = run.of_type("retry")
    assert [(e["kind"], e["attempt"]) for e in retries] == [("reply", 1), ("reply", 2)]
    assert retries[0]["feedback"] == "the reply to llm.query does not match its `schema:`: $.score: expected at most 10, found 11"
    assert retries[1]["feedback"].startswith("the reply to llm.query is not JSON, as its `schema:` requires")
    assert run.bound("feedback_kind") == ["reply", "reply", ""]
    assert run.bound("rating") == [{"score": 4}], "no value is bound from a reply the schema refused"
    assert [e["result"] for e in run.of_type("effect.answered")] == [
        json.loads(line) for line in (CONTRACT / "schema_fenced.jsonl").read_text().splitlines()]
    assert run.outcomes() == [("rate", "violated"), ("rate", "violated"), ("rate", "completed")]
    assert run.metrics()["metrics"] == {"score": 4}
    prompts = [e["request"]["prompt"] for e in run.of_type("effect.requested")]
    assert prompts[1] == "Rate it from 0 to 10. " + retries[0]["feedback"]


@pytest.mark.parametrize("reply", [
    pytest.param("```\n{\"score\": 2}\n```", id="plain block"),
    pytest.param("```json\r\n{\"score\": 2}\r\n```", id="CRLF json block"),
])
def test_a_schema_reply_in_other_fences(tmp_path: Path, reply: str) -> None:
    run = start(tmp_path, "schema_fenced.spak", answers=[reply])
    expect(run, 0)
    assert run.of_type("retry") == []
    assert run.bound("rating") == [{"score": 2}]


def test_a_schema_reply_that_never_fits_fails_the_run(tmp_path: Path) -> None:
    run = start(tmp_path, "schema_fenced.spak", answers=["```json\n{\"score\": 11}\n```"] * 3)
    expect(run, 1)
    assert "does not match its `schema:`" in run.failure()["reason"]
    assert "was retried 2 times (max 2)" in run.failure()["reason"]


def test_the_prompt_file_shows_the_schema(tmp_path: Path) -> None:
    run = start(tmp_path, "schema_fenced.spak")
    expect(run, 3)
    prompt = (run.folder / "pending" / "prompt.md").read_text()
    assert "## Schema" in prompt
    schema_text = prompt.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(schema_text) == {"type": "object", "required": ["score"],
                                       "properties": {"score": {"type": "integer", "maximum": 10}}}
    request = json.loads((run.folder / "pending" / "request.json").read_text())
    assert request["request"]["schema"] == json.loads(schema_text)


def test_the_prompt_file_of_an_as_json_query_says_json(tmp_path: Path) -> None:
    run = start(tmp_path, "fenced_json.spak")
    expect(run, 3)
    prompt = (run.folder / "pending" / "prompt.md").read_text()
    assert "(The answer must be JSON.)" in prompt and "## Schema" not in prompt
