// Syntax of the request line and header fields (RFC 9112 §3 and §5, RFC 9110 §5.6.2).

extension RequestHead {
    /// Parses a complete header section: the request line, the field lines and the empty line
    /// that ends them, each ended by CRLF (a lone LF is accepted too).
    ///
    /// - Throws: `HTTPParseError` 400 for a malformed request line or field line, a bare CR,
    ///   obsolete line folding or whitespace between a field name and its colon; 414 for a target
    ///   longer than `limits.maxTargetLength`; 505 for a version other than 1.0 or 1.1.
    package init(parsing bytes: ArraySlice<UInt8>, limits: RequestLimits) throws(HTTPParseError) {
        var lines: [ArraySlice<UInt8>] = []
        for rawLine in bytes.split(separator: Byte.lf, omittingEmptySubsequences: false) {
            let line = rawLine.last == Byte.cr ? rawLine.dropLast() : rawLine
            guard !line.contains(Byte.cr) else { throw .badRequest("bare CR in header section") }
            lines.append(line)
        }
        // The section ends "\n\n" (or "\r\n\r\n"), so splitting leaves two empty lines last.
        guard lines.count >= 3, lines[lines.count - 1].isEmpty, lines[lines.count - 2].isEmpty
        else { throw .badRequest("incomplete header section") }

        let (method, target, version) = try Self.parseRequestLine(lines[0], limits: limits)
        var headers = HTTPHeaders()
        for line in lines[1..<(lines.count - 2)] {
            let (name, value) = try Self.parseFieldLine(line)
            headers.add(name, value)
        }
        self.init(method: method, target: target, version: version, headers: headers)
    }

    private static func parseRequestLine(
        _ line: ArraySlice<UInt8>, limits: RequestLimits
    ) throws(HTTPParseError) -> (String, String, HTTPVersion) {
        let parts = line.split(separator: Byte.space, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .badRequest("malformed request line")
        }
        guard parts[0].allSatisfy(Byte.isTokenCharacter) else {
            throw .badRequest("malformed method in request line")
        }
        guard parts[1].count <= limits.maxTargetLength else {
            throw .targetTooLong(limit: limits.maxTargetLength)
        }
        guard parts[1].allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .badRequest("invalid character in request target")
        }
        let version = try Self.parseVersion(parts[2])
        return (
            String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self),
            version
        )
    }

    private static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError)
        -> HTTPVersion
    {
        let text = String(decoding: bytes, as: UTF8.self)
        let digits = Array(bytes.dropFirst(5))
        guard text.hasPrefix("HTTP/"), digits.count == 3, digits[1] == UInt8(ascii: "."),
            let major = Byte.digitValue(digits[0]), let minor = Byte.digitValue(digits[2])
        else { throw .badRequest("malformed HTTP version in request line") }
        let version = HTTPVersion(major: major, minor: minor)
        guard version == .http1_0 || version == .http1_1 else {
            throw .versionNotSupported(text)
        }
        return version
    }

    private static func parseFieldLine(
        _ line: ArraySlice<UInt8>
    ) throws(HTTPParseError) -> (String, String) {
        if let first = line.first, Byte.isWhitespace(first) {
            throw .badRequest("obsolete line folding in header section")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
            throw .badRequest("malformed header field line")
        }
        let name = line[..<colon]
        if let last = name.last, Byte.isWhitespace(last) {
            throw .badRequest("whitespace between header field name and colon")
        }
        guard name.allSatisfy(Byte.isTokenCharacter) else {
            throw .badRequest("invalid character in header field name")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, Byte.isWhitespace(first) { value = value.dropFirst() }
        while let last = value.last, Byte.isWhitespace(last) { value = value.dropLast() }
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == Byte.tab }) else {
            throw .badRequest("invalid character in header field value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}

/// Byte constants and classes used by the parser.
enum Byte {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Whether `byte` is SP or HTAB.
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// The value of an ASCII decimal digit, or nil for any other byte.
    static func digitValue(_ byte: UInt8) -> Int? {
        (0x30...0x39).contains(byte) ? Int(byte - 0x30) : nil
    }

    /// Whether `byte` may appear in a token (RFC 9110 §5.6.2): methods and field names.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
