/// An ordered list of header fields with case-insensitive name lookup.
///
/// Fields keep the order in which they were received or added, duplicates included. Name
/// comparisons ignore ASCII case, as RFC 9110 §5.1 requires; values are stored exactly as given.
/// Iterating yields `(name, value)` pairs in order.
package struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header field.
    package typealias Field = (name: String, value: String)

    private var fields: [Field]

    /// Creates a header list from `(name, value)` pairs, keeping their order.
    package init(_ pairs: [(String, String)] = []) {
        self.fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// Creates a header list from a literal such as `["Allow": "GET, HEAD"]`, in source order.
    package init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The number of fields, counting each duplicate separately.
    package var count: Int { self.fields.count }

    /// The value of the first field named `name`, or nil when there is none.
    package subscript(name: String) -> String? {
        self.fields.first { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    /// Every value of the fields named `name`, in order; empty when there is none.
    package func values(_ name: String) -> [String] {
        self.fields.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    /// The first of `names` (up to 64 of them) that more than one field carries, or nil; one
    /// pass over the fields, for checks that run on every request.
    package func firstRepeatedName(among names: [String]) -> String? {
        precondition(names.count <= 64, "at most 64 names, got \(names.count)")
        var seen: UInt64 = 0
        for field in self.fields {
            for (bit, name) in names.enumerated() where field.name.equalsIgnoringASCIICase(name) {
                if seen & (1 << bit) != 0 { return name }
                seen |= 1 << bit
            }
        }
        return nil
    }

    /// Whether at least one field is named `name`.
    package func contains(_ name: String) -> Bool {
        self.fields.contains { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// The comma-separated elements of every `name` field, trimmed and lowercased, empty ones
    /// dropped: `Connection: keep-alive, Upgrade` gives `["keep-alive", "upgrade"]`.
    package func tokens(_ name: String) -> [String] {
        self.values(name).flatMap { value in
            value.split(separator: ",").map { $0.trimmingHTTPWhitespace().lowercased() }
        }.filter { !$0.isEmpty }
    }

    /// Appends a field, keeping any existing fields of the same name.
    package mutating func add(_ name: String, _ value: String) {
        self.fields.append((name: name, value: value))
    }

    /// Replaces every field named `name` with one field holding `value`.
    ///
    /// The new field takes the position of the first old one, or goes last when there was none.
    package mutating func set(_ name: String, _ value: String) {
        guard let first = self.fields.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) })
        else {
            self.add(name, value)
            return
        }
        self.fields[first] = (name: name, value: value)
        var index = self.fields.index(after: first)
        while index < self.fields.endIndex {
            if self.fields[index].name.equalsIgnoringASCIICase(name) {
                self.fields.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    /// Removes every field named `name`.
    package mutating func remove(_ name: String) {
        self.fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// Iterates over the fields in order.
    package func makeIterator() -> IndexingIterator<[Field]> {
        self.fields.makeIterator()
    }
}

extension String {
    /// Whether the two strings are equal when ASCII letters are compared without case.
    ///
    /// Header names are looked up several times per request, so native strings are compared
    /// over their contiguous bytes, equal bytes first; others go character by character.
    func equalsIgnoringASCIICase(_ other: String) -> Bool {
        guard self.utf8.count == other.utf8.count else { return false }
        let compared = self.utf8.withContiguousStorageIfAvailable { left in
            other.utf8.withContiguousStorageIfAvailable { right in
                for index in left.indices where left[index] != right[index] {
                    guard left[index].asciiLowercased == right[index].asciiLowercased else { return false }
                }
                return true
            }
        }
        if let compared = compared ?? nil { return compared }
        return zip(self.utf8, other.utf8).allSatisfy { $0.asciiLowercased == $1.asciiLowercased }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and horizontal tabs (HTTP's OWS).
    func trimmingHTTPWhitespace() -> String {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = self.firstIndex(where: { !isOWS($0) }) else { return "" }
        // Safe: a non-whitespace character exists, so a last one does too.
        let end = self.lastIndex(where: { !isOWS($0) })!
        return String(self[start...end])
    }
}

extension UInt8 {
    /// The byte with ASCII `A`–`Z` mapped to `a`–`z`; every other byte unchanged.
    var asciiLowercased: UInt8 {
        (0x41...0x5A).contains(self) ? self | 0x20 : self
    }
}
