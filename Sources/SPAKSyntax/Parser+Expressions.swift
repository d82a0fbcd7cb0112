import SPAKDiagnostics

/// Expressions, loosest first: `or`, `and`, `not`, one comparison, `+ -`, `* / %`, unary `-`,
/// then `.field` and `[index]` after a primary. The layering is the grammar's, so that, as
/// there, `not` cannot stand as an operand of a comparison or of arithmetic.
extension Parser {
    mutating func parseExpression() throws(Recover) -> Expr {
        try nest()
        defer { depth -= 1 }
        return try parseLeftAssociative([.or]) { p throws(Recover) in
            try p.parseLeftAssociative([.and]) { p throws(Recover) in try p.parseNot() }
        }
    }

    /// `OPERAND (OP OPERAND)*` for the operators whose tokens are given, folded to the left.
    /// A long chain counts toward the nesting limit, since it builds a deep tree.
    private mutating func parseLeftAssociative(
        _ operators: [BinaryOperator], operand: (inout Parser) throws(Recover) -> Expr
    ) throws(Recover) -> Expr {
        var lhs = try operand(&self)
        var links = 0
        while let op = binaryOperator(current.kind), operators.contains(op) {
            advance()
            links += 1
            if depth + links > SPAKParser.nestingLimit {
                do { try enterNesting(extra: links) } catch { throw Recover() }
            }
            let rhs = try operand(&self)
            lhs = Expr(.binary(op, lhs, rhs), range: lhs.range.union(rhs.range))
        }
        return lhs
    }

    private mutating func parseNot() throws(Recover) -> Expr {
        guard current.kind == .keyword(.not) else { return try parseComparison() }
        let start = advance().range.start
        try nest()
        defer { depth -= 1 }
        let operand = try parseNot()
        return Expr(.unary(.not, operand), range: SourceRange(start: start, end: operand.range.end))
    }

    private mutating func parseComparison() throws(Recover) -> Expr {
        let lhs = try parseSum()
        guard let op = binaryOperator(current.kind), op.isComparison else { return lhs }
        advance()
        let rhs = try parseSum()
        if let next = binaryOperator(current.kind), next.isComparison {
            report(.chainedComparison, at: current.range)
            throw Recover()
        }
        return Expr(.binary(op, lhs, rhs), range: lhs.range.union(rhs.range))
    }

    private mutating func parseSum() throws(Recover) -> Expr {
        try parseLeftAssociative([.add, .subtract]) { p throws(Recover) in
            try p.parseLeftAssociative([.multiply, .divide, .remainder]) { p throws(Recover) in try p.parseUnary() }
        }
    }

    private mutating func parseUnary() throws(Recover) -> Expr {
        guard current.kind == .minus else { return try parsePostfix() }
        let start = advance().range.start
        try nest()
        defer { depth -= 1 }
        let operand = try parseUnary()
        return Expr(.unary(.negate, operand), range: SourceRange(start: start, end: operand.range.end))
    }

    private mutating func parsePostfix() throws(Recover) -> Expr {
        var expr = try parsePrimary()
        var links = 0
        while current.kind == .dot || current.kind == .leftBracket {
            links += 1
            if depth + links > SPAKParser.nestingLimit {
                do { try enterNesting(extra: links) } catch { throw Recover() }
            }
            if current.kind == .dot, peek().kind == .dot {
                let range = current.range.union(peek().range)
                report(.unexpectedToken(expected: "a field name after `.`", found: "`..`"), at: range,
                       notes: [DiagnosticNote("a range is written with three dots, as in `1...n`")],
                       fixIts: [FixIt(replace: range, with: "...")])
                throw Recover()
            }
            if advance().kind == .dot {
                let field = try expectName("a field name after `.`")
                expr = Expr(.field(expr, field), range: expr.range.union(field.range))
            } else {
                let index = try parseExpression()
                let close = current.range
                try expect(.rightBracket, "`]` to close the index")
                expr = Expr(.index(expr, index), range: expr.range.union(close))
            }
        }
        return expr
    }

    private mutating func parsePrimary() throws(Recover) -> Expr {
        let token = current
        switch token.kind {
        case .integer: advance(); return Expr(.integer(text(token)), range: token.range)
        case .float: advance(); return Expr(.float(text(token)), range: token.range)
        case .duration: advance(); return Expr(.duration(text(token)), range: token.range)
        case .string, .multilineString:
            advance()
            return Expr(.string(strings[token.range.start] ?? ""), range: token.range)
        case .keyword(.true): advance(); return Expr(.bool(true), range: token.range)
        case .keyword(.false): advance(); return Expr(.bool(false), range: token.range)
        case .keyword(.null): advance(); return Expr(.null, range: token.range)
        case .name:
            advance()
            let name = Identifier(text(token), range: token.range)
            guard current.kind == .leftParen else { return Expr(.name(name.name), range: token.range) }
            advance()
            let arguments = try parseArguments()
            return Expr(.call(name, arguments.arguments), range: SourceRange(start: token.range.start, end: arguments.end))
        case .leftBracket:
            return try parseList()
        case .leftBrace:
            return try parseMap()
        case .leftParen:
            advance()
            unclosed.append(.rightParen)
            let inner = try parseExpression()
            let close = current.range
            try expect(.rightParen, "`)` to close the parenthesis")
            unclosed.removeLast()
            // The parentheses leave no node, but the range covers them.
            return Expr(inner.kind, range: SourceRange(start: token.range.start, end: close.end))
        default:
            reportUnexpected(expected: "an expression")
            throw Recover()
        }
    }

    /// The arguments after `(` up to and including `)`: `VALUE` or `LABEL: VALUE`.
    mutating func parseArguments() throws(Recover) -> (arguments: [Argument], end: Int) {
        try nest()
        defer { depth -= 1 }
        unclosed.append(.rightParen)
        let arguments = try commaSeparated(until: .rightParen) { p throws(Recover) in
            if p.current.kind == .name, p.peek().kind == .colon {
                let labelToken = p.advance()
                p.advance()
                return Argument(label: Identifier(p.text(labelToken), range: labelToken.range), value: try p.parseExpression())
            }
            return Argument(label: nil, value: try p.parseExpression())
        }
        let end = current.range.end
        try expect(.rightParen, "`,` or `)` in the argument list")
        unclosed.removeLast()
        return (arguments, end)
    }

    private mutating func parseList() throws(Recover) -> Expr {
        let start = advance().range.start
        unclosed.append(.rightBracket)
        try nest()
        defer { depth -= 1 }
        let items = try commaSeparated(until: .rightBracket) { p throws(Recover) in try p.parseExpression() }
        let end = current.range.end
        try expect(.rightBracket, "`,` or `]` in the list")
        unclosed.removeLast()
        return Expr(.list(items), range: SourceRange(start: start, end: end))
    }

    private mutating func parseMap() throws(Recover) -> Expr {
        let start = advance().range.start
        unclosed.append(.rightBrace)
        try nest()
        defer { depth -= 1 }
        let entries = try commaSeparated(until: .rightBrace) { p throws(Recover) in
            let key: StringLiteral
            if p.current.kind == .name {
                let token = p.advance()
                key = StringLiteral(value: p.text(token), range: token.range)
            } else if p.current.kind == .string {
                key = try p.expectString("a key")
            } else {
                p.reportUnexpected(expected: "a key (a name or a string) in the map")
                throw Recover()
            }
            try p.expect(.colon, "`:` after the key")
            return MapEntry(key: key, value: try p.parseExpression())
        }
        let end = current.range.end
        try expect(.rightBrace, "`,` or `}` in the map")
        unclosed.removeLast()
        return Expr(.map(entries), range: SourceRange(start: start, end: end))
    }

    private func binaryOperator(_ kind: TokenKind) -> BinaryOperator? {
        switch kind {
        case .keyword(.or): .or
        case .keyword(.and): .and
        case .equal: .equal
        case .notEqual: .notEqual
        case .less: .less
        case .lessEqual: .lessEqual
        case .greater: .greater
        case .greaterEqual: .greaterEqual
        case .plus: .add
        case .minus: .subtract
        case .star: .multiply
        case .slash: .divide
        case .percent: .remainder
        default: nil
        }
    }
}
