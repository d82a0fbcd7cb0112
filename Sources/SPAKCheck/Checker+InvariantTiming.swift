import SPAKDiagnostics
import SPAKSyntax

/// When invariants are checked. An invariant is checked whenever a variable it reads is bound,
/// once all of them have values; one that reads nothing the program binds is checked once,
/// before the first step (W317), and one whose variables are never all bound in one run is
/// never checked (W318).
extension Checker {
    mutating func checkInvariantTiming() {
        let parameters = Set(task.parameters.map(\.name.name))
        var exclusive: ExclusiveBindings?
        for item in task.systemModels.flatMap(\.items) {
            guard case .invariant(let name, let condition, _) = item else { continue }
            let read = Bindings.names(readBy: condition)
            let fixed = read.allSatisfy { (parameters.contains($0) || Builtins.variables[$0] != nil) && bindingSites[$0] == nil }
            if fixed {
                report(.invariantCheckedOnce(name.name, readsVariables: !read.isEmpty), at: name.range,
                       notes: [DiagnosticNote("it is checked once, before the first step, and a violation there fails the run at once")])
                continue
            }
            // Parameters and builtins always have a value; only the program's own bindings can miss each other.
            let bound = read.filter { bindingSites[$0] != nil && !parameters.contains($0) && Builtins.variables[$0] == nil }.sorted()
            guard bound.count >= 2 else { continue }
            let bindings = exclusive ?? ExclusiveBindings(task.body)
            exclusive = bindings
            guard let (first, second) = bindings.firstPairNeverBoundTogether(bound) else { continue }
            let notes = bindings.bindings(of: first).map { DiagnosticNote("`\(first)` is bound here", at: $0) }
                + bindings.bindings(of: second).map { DiagnosticNote("`\(second)` is bound here, in another branch", at: $0) }
                + [DiagnosticNote("nothing runs that `if` a second time (no `repeat` around it, no `on_fail retry` back over it), "
                                  + "so the invariant never has all its values")]
            report(.invariantNeverChecked(name.name, first, second), at: name.range, notes: notes)
        }
    }
}
