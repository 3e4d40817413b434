import Foundation

extension JSONValue {
    /// The path (`model.hidden_size`, `inputs[2].k`) of the first field that appears twice in
    /// one object of `bytes`, or nil when none does.
    ///
    /// Foundation's parser keeps the last of two equal keys without a word; a request that
    /// gives a field twice is refused instead, as no value is picked from the two. `bytes` must
    /// already have parsed as JSON. Keys are compared as decoded strings, so `"a"` and
    /// `"\u0061"` are the same field.
    static func firstRepeatedField(in bytes: [UInt8]) -> String? {
        var scanner = RepeatedFieldScanner(bytes: bytes)
        return scanner.value(path: "")
    }
}

extension ServiceError {
    /// 400 `invalid_field` for a field that an object gives twice.
    static func repeatedField(_ path: String) -> ServiceError {
        .invalidField(path: path, message: "is given more than once in its object; give each field once")
    }
}

/// A recursive walk over JSON text that is known to be valid, tracking each object's keys.
private struct RepeatedFieldScanner {
    let bytes: [UInt8]
    var index = 0

    mutating func value(path: String) -> String? {
        skipWhitespace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(path: path)
        case UInt8(ascii: "["): return array(path: path)
        case UInt8(ascii: "\""):
            _ = string()
            return nil
        default:
            // A number, true, false or null: up to the next delimiter.
            while index < bytes.count, !Self.isDelimiter(bytes[index]) { index += 1 }
            return nil
        }
    }

    private mutating func object(path: String) -> String? {
        index += 1  // {
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return nil
        }
        var keys = Set<String>()
        while index < bytes.count {
            skipWhitespace()
            let key = string()
            let child = path.isEmpty ? key : "\(path).\(key)"
            if !keys.insert(key).inserted { return child }
            skipWhitespace()
            index += 1  // :
            if let repeated = value(path: child) { return repeated }
            skipWhitespace()
            guard index < bytes.count else { return nil }
            let separator = bytes[index]
            index += 1
            if separator != UInt8(ascii: ",") { return nil }  // }
        }
        return nil
    }

    private mutating func array(path: String) -> String? {
        index += 1  // [
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return nil
        }
        var position = 0
        while index < bytes.count {
            if let repeated = value(path: "\(path)[\(position)]") { return repeated }
            position += 1
            skipWhitespace()
            guard index < bytes.count else { return nil }
            let separator = bytes[index]
            index += 1
            if separator != UInt8(ascii: ",") { return nil }  // ]
        }
        return nil
    }

    /// Reads the string at `index` (its opening quote) and returns it decoded.
    private mutating func string() -> String {
        let start = index
        index += 1
        var hasEscape = false
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\") {
                hasEscape = true
                index += 1
            }
            index += 1
        }
        index += 1  // closing quote
        let quoted = bytes[start..<min(index, bytes.count)]
        guard hasEscape else { return String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self) }
        let decoded = try? JSONSerialization.jsonObject(with: Data(quoted), options: [.fragmentsAllowed])
        return decoded as? String ?? String(decoding: quoted, as: UTF8.self)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
    }
}
