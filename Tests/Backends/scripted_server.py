"""A scripted model server for the backend tests: on 127.0.0.1, it answers the n-th chat
request with the n-th behaviour of a script (the last one repeats), speaking OpenAI's
`/v1/chat/completions` or Ollama's `/api/chat` as the request's path says, and logs every
request it received as one JSON line.

    python3 scripted_server.py SCRIPT.json [LOG.jsonl]    # prints the port, then serves

The script is a list of behaviours, or {"cycle": [...]} to play them round and round (for
benchmarks; without a log file nothing is written per request). A behaviour is a JSON object;
every key is optional:

    reply          the reply text, sent in the protocol's shape (streamed when the request
                   asks for it: one chunk per word); "reply_bytes": N sends N times "fill"
                   (default "x")
    chunk_bytes    stream the reply in pieces of this many characters instead of words
    event_padding  give each streamed piece a field of this many bytes besides its text (as
                   servers that send log-probabilities do)
    status         the HTTP status (default 200); with a non-2xx status, "error" is the message
    headers        extra response headers, e.g. {"Retry-After": "1"}
    body           a raw body sent as it is, instead of a reply (for malformed JSON)
    delay          seconds to wait before the response head
    chunk_delay    seconds between streamed chunks
    cut_after      stream this many chunks, then close the connection mid-reply
    end_after      stream this many chunks, then end the body cleanly, without the final event
    drop           close the connection without answering
    raw            send these characters instead of an HTTP response, then close
    usage          false leaves the token usage out of the reply
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Script:
    def __init__(self, script: list[dict] | dict, log: Path | None) -> None:
        self.cycle = isinstance(script, dict)
        self.behaviours = (script["cycle"] if self.cycle else script) or [{"reply": "ok"}]
        self.log = log
        self.count = 0
        self.lock = threading.Lock()

    def next(self, record: dict) -> dict:
        with self.lock:
            index = self.count % len(self.behaviours) if self.cycle else min(self.count, len(self.behaviours) - 1)
            self.count += 1
            if self.log:
                with self.log.open("a") as log:
                    log.write(json.dumps(record) + "\n")
            return self.behaviours[index]


def openai_body(text: str, model: str, usage: bool) -> dict:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
    if usage:
        body["usage"] = {"prompt_tokens": 11, "completion_tokens": len(text.split()) or 1,
                         "total_tokens": 11 + (len(text.split()) or 1)}
    return body


def ollama_body(text: str, model: str, usage: bool, done: bool = True, counted: str | None = None) -> dict:
    """Ollama's reply shape; the last line of a stream counts the tokens of the whole reply (`counted`)."""
    body = {"model": model, "created_at": "2026-11-30T00:00:00Z", "message": {"role": "assistant", "content": text},
            "done": done}
    if done:
        body["done_reason"] = "stop"
        if usage:
            whole = text if counted is None else counted
            body.update(prompt_eval_count=11, eval_count=len(whole.split()) or 1)
    return body


def words(text: str) -> list[str]:
    """The text in pieces that join back to it exactly: each word with the space before it."""
    pieces, current = [], ""
    for char in text:
        if char == " " and current.strip():
            pieces.append(current)
            current = ""
        current += char
    return pieces + ([current] if current else [])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body are separate writes: without this, Nagle's algorithm holds the
    # body until the client's delayed ACK (40 ms), which would swamp every timing.
    disable_nagle_algorithm = True
    script: Script

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.send_json(200, {"models": [], "data": []})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            request = json.loads(raw)
        except ValueError:
            request = {"unparsed": raw.decode("utf-8", "replace")}
        behaviour = self.script.next({"path": self.path, "headers": dict(self.headers), "body": request})
        if behaviour.get("drop"):
            self.close_now()
            return
        if "raw" in behaviour:
            self.wfile.write(behaviour["raw"].encode())
            self.close_now()
            return
        time.sleep(behaviour.get("delay", 0))
        status = behaviour.get("status", 200)
        extra = behaviour.get("headers", {})
        if "body" in behaviour:
            self.send_raw(status, behaviour["body"].encode(), "application/json", extra)
            return
        if status >= 300:
            message = behaviour.get("error", "scripted failure")
            error = {"error": message} if self.path.startswith("/api/") else {"error": {"message": message, "type": "server_error"}}
            self.send_raw(status, json.dumps(error).encode(), "application/json", extra)
            return
        text = behaviour.get("fill", "x") * behaviour["reply_bytes"] if "reply_bytes" in behaviour else behaviour.get("reply", "ok")
        model = request.get("model", "scripted")
        usage = behaviour.get("usage", True)
        ollama = self.path.startswith("/api/")
        if not request.get("stream"):
            body = ollama_body(text, model, usage) if ollama else openai_body(text, model, usage)
            self.send_raw(status, json.dumps(body).encode(), "application/json", extra)
            return
        self.stream(text, model, usage, ollama, behaviour, extra)

    def stream(self, text: str, model: str, usage: bool, ollama: bool, behaviour: dict, extra: dict) -> None:
        size = behaviour.get("chunk_bytes")
        pieces = [text[i:i + size] for i in range(0, len(text), size)] if size else words(text)
        padding = {"padding": "p" * behaviour["event_padding"]} if "event_padding" in behaviour else {}
        if ollama:
            chunks = [json.dumps({**ollama_body(piece, model, usage, done=False), **padding}) + "\n" for piece in pieces]
            chunks.append(json.dumps(ollama_body("", model, usage, done=True, counted=text)) + "\n")
        else:
            chunks = []
            for piece in pieces:
                delta = {"id": "c", "object": "chat.completion.chunk", "model": model,
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}], **padding}
                chunks.append("data: " + json.dumps(delta) + "\n\n")
            final = {"id": "c", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            chunks.append("data: " + json.dumps(final) + "\n\n")
            if usage:
                counted = openai_body(text, model, True)["usage"]
                chunks.append("data: " + json.dumps({"id": "c", "choices": [], "usage": counted}) + "\n\n")
            chunks.append("data: [DONE]\n\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        cut, end = behaviour.get("cut_after"), behaviour.get("end_after")
        delay = behaviour.get("chunk_delay", 0)
        pending: list[bytes] = []  # without a delay, chunks go out in writes of about 64 KiB
        waiting = 0
        for number, chunk in enumerate(chunks):
            if cut is not None and number >= cut:
                self.send_chunks(pending)
                self.close_now()
                return
            if end is not None and number >= end:
                break
            data = chunk.encode()
            pending.append(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            waiting += len(pending[-1])
            if delay or waiting >= 65536:
                self.send_chunks(pending)
                waiting = 0
                time.sleep(delay)
        self.send_chunks(pending + [b"0\r\n\r\n"])

    def send_chunks(self, pending: list[bytes]) -> None:
        self.wfile.write(b"".join(pending))
        self.wfile.flush()
        pending.clear()

    def send_raw(self, status: int, body: bytes, content_type: str, extra: dict) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status: int, value: object) -> None:
        self.send_raw(status, json.dumps(value).encode(), "application/json", {})

    def close_now(self) -> None:
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that stops reading (a reply over its cap, a timeout) is part of the script.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main() -> None:
    script_path, log_path = Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None
    Handler.script = Script(json.loads(script_path.read_text()), log_path)
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
