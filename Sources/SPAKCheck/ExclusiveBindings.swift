import SPAKDiagnostics
import SPAKSyntax

/// Where each variable is bound and in which `if` branches, to tell when two variables are
/// never bound in the same run: every binding of one sits in a branch of an `if` whose other
/// branches hold every binding of the other, and nothing can run that `if` a second time (no
/// `repeat` around it, and no `on_fail retry` span, from the target step to the retrying step
/// in source order, over its condition). It errs on the side of "may be bound together".
struct ExclusiveBindings {
    /// One branch of an `if … else if … else` chain.
    private struct Branch: Equatable {
        /// The chain, by the offset of its first `if`.
        let chain: Int
        /// Which branch of the chain, from 0.
        let index: Int
    }

    /// One binding of a variable: where its name is written, and the branches around it,
    /// outermost first.
    private struct Site {
        let range: SourceRange
        let branches: [Branch]
    }

    private var sites: [String: [Site]] = [:]
    /// The chains inside some `repeat`.
    private var chainsInLoops: Set<Int> = []
    private var chains: [Int] = []
    /// Each step's source range (the first, where a name is defined twice).
    private var stepRanges: [String: SourceRange] = [:]
    /// Each `on_fail retry`: the step it names and the step it is in.
    private var retries: [(target: String, retrying: SourceRange)] = []
    /// The chains that can run more than once in a run.
    private var rerunnable: Set<Int> = []

    /// Reads a task's flow statements.
    init(_ statements: [Statement]) {
        walk(statements, branches: [], inLoop: false, step: nil)
        for chain in chains {
            let underRetry = retries.contains { retry in
                guard let target = stepRanges[retry.target] else { return false }
                let span = min(target.start, retry.retrying.start)..<max(target.end, retry.retrying.end)
                return span.contains(chain)
            }
            if underRetry || chainsInLoops.contains(chain) { rerunnable.insert(chain) }
        }
    }

    /// Where `name` is bound, in source order.
    func bindings(of name: String) -> [SourceRange] {
        sites[name, default: []].map(\.range)
    }

    /// Whether `first` and `second` are certainly never bound in the same run (both are bound
    /// somewhere, and each binding of one excludes every binding of the other).
    func neverBoundTogether(_ first: String, _ second: String) -> Bool {
        guard let firstSites = sites[first], let secondSites = sites[second] else { return false }
        return firstSites.allSatisfy { one in secondSites.allSatisfy { other in excludes(one, other) } }
    }

    /// The first pair of `names` (in their order) never bound in the same run, if any.
    func firstPairNeverBoundTogether(_ names: [String]) -> (String, String)? {
        for (index, first) in names.enumerated() {
            if let second = names[(index + 1)...].first(where: { neverBoundTogether(first, $0) }) { return (first, second) }
        }
        return nil
    }

    /// Whether two bindings sit in different branches of one chain that runs at most once.
    private func excludes(_ one: Site, _ other: Site) -> Bool {
        guard let (left, right) = zip(one.branches, other.branches).first(where: { $0 != $1 }) else { return false }
        return left.chain == right.chain && !rerunnable.contains(left.chain)
    }

    private mutating func walk(_ statements: [Statement], branches: [Branch], inLoop: Bool, step: SourceRange?) {
        for statement in statements {
            switch statement {
            case .step(let name, let body, let range):
                if stepRanges[name.name] == nil { stepRanges[name.name] = range }
                walk(body.statements, branches: branches, inLoop: inLoop, step: range)
            case .let(let name, _, _):
                sites[name.name, default: []].append(Site(range: name.range, branches: branches))
            case .effect(let effect):
                if let binding = effect.binding {
                    sites[binding.name.name, default: []].append(Site(range: binding.name.range, branches: branches))
                }
            case .if(let chain):
                chains.append(chain.range.start)
                if inLoop { chainsInLoops.insert(chain.range.start) }
                for (index, block) in Self.branches(of: chain).enumerated() {
                    walk(block.statements, branches: branches + [Branch(chain: chain.range.start, index: index)],
                         inLoop: inLoop, step: step)
                }
            case .repeat(let loop):
                sites[loop.variable.name, default: []].append(Site(range: loop.variable.range, branches: branches))
                walk(loop.body.statements, branches: branches, inLoop: true, step: step)
            case .onFail(.retry(let target, _), _):
                if let step { retries.append((target.name, step)) }
            case .onFail(.fail, _):
                break
            }
        }
    }

    /// The blocks of an `if … else if … else` chain, in order.
    private static func branches(of chain: IfStatement) -> [Block] {
        var blocks = [chain.then]
        var rest = chain.otherwise
        while let branch = rest {
            switch branch {
            case .block(let block):
                blocks.append(block)
                rest = nil
            case .elseIf(let nested):
                blocks.append(nested.then)
                rest = nested.otherwise
            }
        }
        return blocks
    }
}
