/// What the sections around a tag mean for it, given the types of the variables they name:
/// whether a name in it may be a field of a section's value, and what its current item (`.`)
/// is. A `{{#x}}` section over a bool renders in place; over any other value it makes that
/// value the current item (each item of a list in turn); an inverted section `{{^x}}` never does.
struct TemplateSections {
    /// Whether some section's value may have fields (a map, a list of maps, a value of
    /// unknown type), so that a name inside it need not be a variable.
    private(set) var mayHoldFields = false
    /// The current item's value, innermost section first; `nil` inside for one not known.
    private var items: [TemplateValue?] = []

    init(_ sections: [TemplateScan.Section], scope: [String: Variable]) {
        for section in sections {
            // Inside a section whose value may have fields, a name may be one of them.
            var value = mayHoldFields ? nil : scope[section.root].flatMap { TemplateValue($0.type) }
            for transform in section.transforms.reversed() {
                guard case .value(let result) = TemplateValue.apply(transform.name, to: value) else { value = nil; break }
                value = result
            }
            if section.root.isEmpty, let item = section.transforms.last { value = TemplateValue.itemTransforms[item.name] }
            if value != .text, value != .integer, value != .flag { mayHoldFields = true }
            if !section.isInverted, value != .flag { items.insert(value, at: 0) }
        }
    }

    /// Whether some section makes a value the current item, so that `.` names something.
    var hasCurrentItem: Bool { !items.isEmpty }

    /// Why `index()` and the other transforms of a list's item have no item here, if so.
    var itemProblem: String? {
        guard let innermost = items.first else { return "there is none here" }
        guard let value = innermost, value != .list else { return nil }
        return "the innermost section here is over \(value.description), not a list"
    }
}
