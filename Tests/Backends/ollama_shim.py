"""A small server that speaks Ollama's API (`/api/chat`, `/api/tags`, `/api/version`) over a
real local model, through llama-cpp-python: Ollama itself cannot be installed offline, and
llama-cpp-python's own server speaks only the OpenAI API. Used by the real-model tests and the
recipe in docs/backends.md.

    python ollama_shim.py --model FILE.gguf [--port 0]     # prints the port, then serves

It follows Ollama's wire format: NDJSON streaming unless `"stream": false`, sampling in
`options` (`temperature`, `seed`, `num_predict`, `stop`), `format` (`"json"` or a JSON
schema), and `prompt_eval_count`/`eval_count` in the last message.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from llama_cpp import Llama


class Shim(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    llm: Llama
    name: str
    lock = threading.Lock()  # one generation at a time, as llama.cpp requires

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            self.send_json(200, {"models": [{"name": self.name, "model": self.name}]})
        elif self.path == "/api/version":
            self.send_json(200, {"version": "0.0.0-shim"})
        else:
            self.send_json(404, {"error": f"no route {self.path}"})

    def do_POST(self) -> None:
        if self.path != "/api/chat":
            self.send_json(404, {"error": f"no route {self.path}"})
            return
        try:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        except ValueError as error:
            self.send_json(400, {"error": f"invalid JSON: {error}"})
            return
        options = request.get("options", {})
        arguments = {"messages": request.get("messages", []), "temperature": options.get("temperature", 0.8),
                     "seed": options.get("seed"), "max_tokens": options.get("num_predict"), "stop": options.get("stop")}
        schema = request.get("format")
        if schema == "json":
            arguments["response_format"] = {"type": "json_object"}
        elif isinstance(schema, dict):
            arguments["response_format"] = {"type": "json_object", "schema": schema}
        if request.get("stream", True):
            self.stream(arguments)
            return
        with self.lock:
            reply = self.llm.create_chat_completion(**arguments)
        choice = reply["choices"][0]
        self.send_json(200, self.message(choice["message"]["content"] or "", True, choice["finish_reason"], reply["usage"]))

    def stream(self, arguments: dict) -> None:
        """The reply as Ollama streams it, one line per token. llama-cpp-python reports token
        counts only for a whole completion, so the reply is generated first and then sent."""
        with self.lock:
            reply = self.llm.create_chat_completion(**arguments)
        choice = reply["choices"][0]
        tokens = self.llm.tokenize((choice["message"]["content"] or "").encode(), add_bos=False, special=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pending = b""
        for token in tokens:
            pending += self.llm.detokenize([token])
            try:
                piece = pending.decode()
            except UnicodeDecodeError:  # a character split across tokens: wait for its rest
                continue
            pending = b""
            self.chunk(self.message(piece, False))
        self.chunk(self.message("", True, choice["finish_reason"], reply["usage"]))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def message(self, content: str, done: bool, reason: str | None = None, usage: dict | None = None) -> dict:
        body = {"model": self.name, "created_at": datetime.now(timezone.utc).isoformat(),
                "message": {"role": "assistant", "content": content}, "done": done}
        if done:
            body.update(done_reason=reason or "stop", prompt_eval_count=usage["prompt_tokens"],
                        eval_count=usage["completion_tokens"])
        return body

    def chunk(self, value: dict) -> None:
        data = (json.dumps(value) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def send_json(self, status: int, value: object) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the GGUF model file")
    parser.add_argument("--name", default="smollm2", help="the model's name in replies")
    parser.add_argument("--port", type=int, default=0, help="the port (0: any free one)")
    arguments = parser.parse_args()
    Shim.llm = Llama(model_path=arguments.model, n_ctx=2048, verbose=False)
    Shim.name = arguments.name
    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), Shim)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
