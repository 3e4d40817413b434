/// The names clients give jobs, uploaded datasets and imported models: labels shown in lists,
/// the dashboard and logs, never file names.
///
/// A valid name is 1 to 200 characters, not all of them white space, and holds no control
/// characters (a line break or NUL would break the one-line views that show it).
package enum ResourceName {
    /// The longest name, in characters.
    package static let maxCharacters = 200

    /// `name` when it is valid; otherwise throws 400 `invalid_field` naming `field`, saying
    /// which rule it breaks.
    package static func checked(_ name: String, field: String) throws -> String {
        guard (1...maxCharacters).contains(name.count) else {
            throw ServiceError.invalidField(
                path: field, message: "must be 1 to \(maxCharacters) characters, got \(name.count)")
        }
        guard name.contains(where: { !$0.isWhitespace }) else {
            throw ServiceError.invalidField(path: field, message: "must not be only white space")
        }
        if let scalar = name.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let code = "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
            throw ServiceError.invalidField(
                path: field, message: "must not hold control characters, found \(code)")
        }
        return name
    }
}

extension String {
    /// The string with leading zeros added up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
