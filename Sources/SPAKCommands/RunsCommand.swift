import ArgumentParser
import Foundation
import SPAKKernel

/// `spak runs`: a table of runs, or their lineage with `--tree`.
struct RunsCommand: SpakSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List the runs in the runs folder.",
        discussion: "With --tree, each forked run is shown under the run it was forked from, with the step it was forked at.")

    @Flag(help: "Show forked runs under their parents.")
    var tree = false

    @OptionGroup var location: RunsLocation

    func execute(io: CommandIO) -> ExitStatus {
        let runs = RunStore.list(runsDirectory: location.runsDir)
        guard !runs.isEmpty else {
            io.out("no runs in \(location.runsDir)\n")
            return .success
        }
        let rows = tree ? Self.lineage(runs) : runs.map { (label: $0.id, run: $0) }
        let width = max(2, rows.map(\.label.count).max() ?? 0)
        var text = "ID".padding(toLength: width, withPad: " ", startingAt: 0) + "  STATUS     STEPS  CREATED\n"
        for (label, run) in rows {
            text += label.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + run.status.padding(toLength: 9, withPad: " ", startingAt: 0) + "  "
                + String(run.steps).padding(toLength: 5, withPad: " ", startingAt: 0) + "  " + run.created + "\n"
        }
        io.out(text)
        return .success
    }

    /// The runs in tree order: each run (oldest first), then its forks beneath it, drawn with
    /// branch lines and the step each was forked at. A fork whose parent is gone is a root.
    static func lineage(_ runs: [RunStore.Summary]) -> [(label: String, run: RunStore.Summary)] {
        let ids = Set(runs.map(\.id))
        var children: [String: [RunStore.Summary]] = [:]
        var roots: [RunStore.Summary] = []
        for run in runs {
            if let parent = run.parent, ids.contains(parent) { children[parent, default: []].append(run) } else { roots.append(run) }
        }
        var rows: [(label: String, run: RunStore.Summary)] = []
        func visit(_ run: RunStore.Summary, indent: String, branch: String) {
            let fork = run.forkedAt.map { " (at \($0)\(run.parent.map { ids.contains($0) ? "" : " of \($0), gone" } ?? ""))" } ?? ""
            rows.append((indent + branch + run.id + fork, run))
            let kids = children[run.id] ?? []
            let inner = indent + (branch == "├─ " ? "│  " : branch.isEmpty ? "" : "   ")
            for (index, kid) in kids.enumerated() { visit(kid, indent: inner, branch: index == kids.count - 1 ? "└─ " : "├─ ") }
        }
        for root in roots { visit(root, indent: "", branch: "") }
        return rows
    }
}
