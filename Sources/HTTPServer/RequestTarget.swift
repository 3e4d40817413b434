/// A request-target (RFC 9112 §3.2) split into a percent-decoded path and query.
///
/// Accepts origin-form (`/a/b?x=1`), absolute-form (`http://host/a/b?x=1`, whose authority is
/// dropped) and asterisk-form (`*`). The path is split on `/` before decoding, so an encoded
/// slash (`%2F`) stays inside its segment.
package struct RequestTarget: Sendable, Equatable {
    /// The decoded path, starting with `/` (or `*` for asterisk-form).
    package var path: String
    /// The decoded path segments: `/v1/jobs/a%20b` gives `["v1", "jobs", "a b"]`, `/` gives
    /// `[""]` and `/a/` gives `["a", ""]`.
    package var segments: [String]
    /// The decoded query parameters, `+` read as a space; when a name repeats, the last wins.
    /// A name without `=` maps to the empty string.
    package var query: [String: String]
    /// Decoded query names that occur more than once, each once, in the order of their second
    /// occurrence; empty for most targets. The server does not judge them: a handler that
    /// wants one value per name refuses the request.
    package var repeatedQueryNames: [String] = []

    /// Splits and decodes `target`.
    ///
    /// - Throws: `HTTPParseError` 400 when the target is in none of the accepted forms, has a
    ///   fragment, or contains a bad percent-escape or bytes that are not UTF-8 once decoded.
    package init(parsing target: String) throws(HTTPParseError) {
        if target == "*" {
            self.init(path: "*", segments: ["*"], query: [:])
            return
        }
        guard !target.utf8.contains(UInt8(ascii: "#")) else {
            throw .badRequest("request target must not contain a fragment")
        }
        // Split on the UTF-8 bytes: the delimiters are ASCII, and splitting on Characters
        // would pay for grapheme breaking on every request.
        let originForm = try Self.originForm(of: target).utf8
        let questionMark = originForm.firstIndex(of: UInt8(ascii: "?"))
        let pathEnd = questionMark ?? originForm.endIndex
        let rawPath = originForm[originForm.index(after: originForm.startIndex)..<pathEnd]

        var segments: [String] = []
        var hasEscapes = false
        for rawSegment in rawPath.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let segment = percentDecoded(Substring(rawSegment), plusAsSpace: false) else {
                throw .badRequest("invalid percent-encoding in request path")
            }
            hasEscapes = hasEscapes || segment.utf8.count != rawSegment.count
            segments.append(segment)
        }

        var query: [String: String] = [:]
        var repeated: [String] = []
        if let questionMark {
            let rawQuery = originForm[originForm.index(after: questionMark)...]
            for pair in rawQuery.split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "="))
                let rawName = pair[..<(equals ?? pair.endIndex)]
                let rawValue = pair[(equals.map { pair.index(after: $0) } ?? pair.endIndex)...]
                guard let name = percentDecoded(Substring(rawName), plusAsSpace: true),
                    let value = percentDecoded(Substring(rawValue), plusAsSpace: true)
                else {
                    throw .badRequest("invalid percent-encoding in query string")
                }
                if query.updateValue(value, forKey: name) != nil && !repeated.contains(name) {
                    repeated.append(name)
                }
            }
        }
        // Without escapes the decoded path is the raw one.
        let path =
            hasEscapes ? "/" + segments.joined(separator: "/") : String(Substring(originForm[..<pathEnd]))
        self.init(path: path, segments: segments, query: query, repeatedQueryNames: repeated)
    }

    init(path: String, segments: [String], query: [String: String], repeatedQueryNames: [String] = []) {
        self.path = path
        self.segments = segments
        self.query = query
        self.repeatedQueryNames = repeatedQueryNames
    }

    /// The target in origin-form: unchanged when it starts with `/`, without scheme and
    /// authority when absolute.
    private static func originForm(of target: String) throws(HTTPParseError) -> Substring {
        if target.utf8.first == UInt8(ascii: "/") { return target[...] }
        let lowered = target.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            let afterScheme = target.dropFirst(scheme.count)
            guard let start = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else {
                return "/"
            }
            let rest = afterScheme[start...]
            return rest.hasPrefix("?") ? Substring("/" + rest) : rest
        }
        throw .badRequest("request target must start with '/'")
    }
}

/// `text` with `%XX` escapes (and, when `plusAsSpace`, `+`) decoded, or nil when an escape is
/// malformed or the decoded bytes are not valid UTF-8.
package func percentDecoded(_ text: Substring, plusAsSpace: Bool) -> String? {
    guard
        text.utf8.contains(where: {
            $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+"))
        })
    else { return String(text) }
    let utf8 = Array(text.utf8)

    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count)
    var index = 0
    while index < utf8.count {
        let byte = utf8[index]
        if byte == UInt8(ascii: "%") {
            guard index + 2 < utf8.count, let high = hexValue(utf8[index + 1]),
                let low = hexValue(utf8[index + 2])
            else { return nil }
            bytes.append(high << 4 | low)
            index += 3
        } else {
            bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

/// The value of one hexadecimal digit, or nil for any other byte.
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
