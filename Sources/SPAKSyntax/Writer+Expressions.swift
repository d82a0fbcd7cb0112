/// Expressions as printed docs: single spaces around binary operators, the fewest
/// parentheses that keep the meaning, map keys bare when they can be.
extension Writer {
    func doc(_ expr: Expr) -> PrintedDoc {
        switch expr.kind {
        case .integer(let spelling), .float(let spelling), .duration(let spelling): return .text(spelling)
        case .string(let value): return PrintedString.doc(value)
        case .bool(let value): return .text(value ? "true" : "false")
        case .null: return .text("null")
        case .name(let name): return .text(name)
        case .missing: return .text("<missing>")
        case .list(let items):
            let items = items.map { BracketedList.Item(doc: doc($0), range: $0.range) }
            return .list(BracketedList(open: "[", items: items, close: "]", openEnd: expr.range.start, end: expr.range.end))
        case .map(let entries):
            let items = entries.map { entry in
                let key = Self.isPlainName(entry.key.value) ? entry.key.value : PrintedString.quoted(entry.key.value)
                return BracketedList.Item(doc: .concat([.text("\(key): "), doc(entry.value)]),
                                          range: entry.key.range.union(entry.value.range))
            }
            return .list(BracketedList(open: "{", items: items, close: "}", openEnd: expr.range.start, end: expr.range.end))
        case .field(let base, let field):
            return .concat([postfixBase(base), .text("." + field.name)])
        case .index(let base, let index):
            return .concat([postfixBase(base), .text("["), doc(index), .text("]")])
        case .call(let function, let arguments):
            return .list(argumentList(function.name + "(", arguments, openEnd: function.range.end, end: expr.range.end))
        case .unary(.negate, let operand):
            // `--x` would not parse, so a negation of a negation keeps its parentheses.
            let isNegation = if case .unary(.negate, _) = operand.kind { true } else { false }
            let inner = doc(operand)
            return Self.precedence(operand) >= 7 && !isNegation ? .concat([.text("-"), inner]) : parenthesized(inner, after: "-")
        case .unary(.not, let operand):
            let inner = doc(operand)
            return Self.precedence(operand) >= 3 ? .concat([.text("not "), inner]) : parenthesized(inner, after: "not ")
        case .binary(let op, let lhs, let rhs):
            let strength = op.precedence
            // Left-associative; comparisons do not chain and `not` cannot be an operand of
            // a comparison or of arithmetic, so those need parentheses.
            let lhsNeeds = Self.precedence(lhs) < strength || (op.isComparison && Self.precedence(lhs) == 4)
                || (strength >= 4 && Self.precedence(lhs) == 3)
            let rhsNeeds = Self.precedence(rhs) <= strength || (strength >= 4 && Self.precedence(rhs) == 3)
            let left = doc(lhs)
            let right = doc(rhs)
            return .concat([
                lhsNeeds ? parenthesized(left) : left, .text(" \(op.rawValue) "), rhsNeeds ? parenthesized(right) : right,
            ])
        }
    }

    /// `OPEN` followed by the arguments (`VALUE` or `LABEL: VALUE`) and `)`.
    func argumentList(_ open: String, _ arguments: [Argument], openEnd: Int, end: Int) -> BracketedList {
        let items = arguments.map { argument in
            let value = doc(argument.value)
            let item = argument.label.map { PrintedDoc.concat([.text("\($0.name): "), value]) } ?? value
            return BracketedList.Item(doc: item, range: argument.range)
        }
        return BracketedList(open: open, items: items, close: ")", openEnd: openEnd, end: end)
    }

    private func postfixBase(_ base: Expr) -> PrintedDoc {
        let inner = doc(base)
        return Self.precedence(base) >= 8 ? inner : parenthesized(inner)
    }

    private func parenthesized(_ inner: PrintedDoc, after prefix: String = "") -> PrintedDoc {
        .concat([.text(prefix + "("), inner, .text(")")])
    }

    /// How tightly an expression binds: primaries and postfix 8, unary minus 7, then the
    /// operators' own precedence; `not` is 3.
    static func precedence(_ expr: Expr) -> Int {
        switch expr.kind {
        case .binary(let op, _, _): op.precedence
        case .unary(.not, _): 3
        case .unary(.negate, _): 7
        default: 8
        }
    }

    /// Whether a map key can be written bare: a name that is not a keyword.
    static func isPlainName(_ text: String) -> Bool {
        guard let first = text.utf8.first, Ascii.isIdentifierStart(first),
              text.utf8.allSatisfy(Ascii.isIdentifierContinue) else { return false }
        return Keyword(rawValue: text) == nil
    }
}
