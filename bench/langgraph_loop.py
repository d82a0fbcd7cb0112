"""The step-overhead loop in LangGraph: N trivial steps, each checkpointed by SqliteSaver.

Prints the seconds the loop took inside the process (the import and setup are not counted).
"""
import sys
import tempfile
import time
from typing import TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, StateGraph


class State(TypedDict):
    i: int
    x: int


def main() -> None:
    steps = int(sys.argv[1])

    def step(state: State) -> dict:
        return {"i": state["i"] + 1, "x": state["i"] + 1}

    graph = StateGraph(State)
    graph.add_node("s", step)
    graph.set_entry_point("s")
    graph.add_conditional_edges("s", lambda state: END if state["i"] >= steps else "s")
    with tempfile.TemporaryDirectory() as folder, SqliteSaver.from_conn_string(folder + "/checkpoints.sqlite") as saver:
        app = graph.compile(checkpointer=saver)
        start = time.perf_counter()
        app.invoke({"i": 0, "x": 0}, {"configurable": {"thread_id": "bench"}, "recursion_limit": steps + 10})
        print(time.perf_counter() - start)


if __name__ == "__main__":
    main()
