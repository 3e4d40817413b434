import Foundation

/// A parsed JSON document, kept as values so request validation can name the exact field
/// that is wrong (`model.hidden_size`) rather than a decoder's coding path.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a request body, or the JSON text `source` names in messages ("the config file").
    /// Throws `ServiceError.malformedJSON` with the parser's position, and `invalid_field`
    /// naming a field an object gives twice.
    package static func parse(_ bytes: [UInt8], source: String = "the request body") throws -> JSONValue {
        guard !bytes.isEmpty else {
            throw ServiceError.malformedJSON("\(source) is empty; a JSON object was expected")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch let error as NSError {
            let detail = error.userInfo["NSDebugDescription"] as? String ?? "not valid JSON"
            throw ServiceError.malformedJSON("\(source) is not valid JSON: \(Self.plainDetail(detail))")
        }
        if let repeated = Self.firstRepeatedField(in: bytes) { throw ServiceError.repeatedField(repeated) }
        return JSONValue(foundation: object)
    }

    /// The parser's message in the terms of JSON: Foundation says a number beyond a Double's
    /// range "is not representable in Swift", which tells a client nothing about its request.
    private static func plainDetail(_ detail: String) -> String {
        let prefix = "Number ", suffix = " is not representable in Swift."
        guard detail.hasPrefix(prefix), detail.hasSuffix(suffix) else { return detail }
        let number = detail.dropFirst(prefix.count).dropLast(suffix.count).prefix(100)
        return "the number \(number) is beyond the range of a 64-bit float (about ±1.8e308)"
    }

    private init(foundation value: Any) {
        switch value {
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumber too; their ObjC type is a char.
            if String(cString: number.objCType) == "c" {
                self = .bool(number.boolValue)
            } else {
                self = .number(number.doubleValue)
            }
        case let string as String:
            self = .string(string)
        case let array as [Any]:
            self = .array(array.map { JSONValue(foundation: $0) })
        case let object as [String: Any]:
            self = .object(object.mapValues { JSONValue(foundation: $0) })
        default:
            self = .null
        }
    }

    /// The JSON type's name, for error messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Reads fields of one JSON object, tracking the path for error messages and
/// rejecting fields nobody asked for.
package struct JSONObjectReader {
    package let path: String
    private let fields: [String: JSONValue]
    private var consumed: Set<String> = []

    /// Fails with `invalid_type` unless `value` is an object.
    package init(_ value: JSONValue, path: String) throws {
        guard case .object(let fields) = value else {
            throw ServiceError.invalidField(path: path.isEmpty ? "(body)" : path,
                                            message: "must be an object, got \(value.typeName)")
        }
        self.path = path
        self.fields = fields
    }

    package func fieldPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The raw value of `key`, or nil when absent or null.
    package mutating func value(_ key: String) -> JSONValue? {
        consumed.insert(key)
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    package mutating func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw ServiceError.invalidField(path: fieldPath(key), message: "must be a string, got \(value.typeName)")
        }
        return text
    }

    package mutating func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw ServiceError.invalidField(path: fieldPath(key), message: "must be true or false, got \(value.typeName)")
        }
        return flag
    }

    package mutating func number(_ key: String) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else {
            throw ServiceError.invalidField(path: fieldPath(key), message: "must be a number, got \(value.typeName)")
        }
        return number
    }

    /// A number field that must lie in `range`, which the error names.
    package mutating func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let number = try number(key) else { return nil }
        guard range.contains(number) else {
            throw ServiceError.invalidField(
                path: fieldPath(key), message: "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    /// An integer field; `range` bounds it and names the bounds in the error.
    package mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let number = try number(key) else { return nil }
        guard number.rounded() == number else {
            throw ServiceError.invalidField(path: fieldPath(key), message: "must be a whole number, got \(number)")
        }
        // Whole but beyond any range asked for (and beyond Int): name the range.
        guard abs(number) < 1e15 else {
            throw ServiceError.invalidField(
                path: fieldPath(key),
                message: "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        let integer = Int(number)
        guard range.contains(integer) else {
            throw ServiceError.invalidField(
                path: fieldPath(key),
                message: "must be between \(range.lowerBound) and \(range.upperBound), got \(integer)")
        }
        return integer
    }

    /// A string field restricted to the raw values of `T`.
    package mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) throws -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw ServiceError.invalidField(path: fieldPath(key), message: "must be one of \(allowed), got \"\(text)\"")
        }
        return choice
    }

    /// A nested object reader, or nil when the field is absent.
    package mutating func object(_ key: String) throws -> JSONObjectReader? {
        guard let value = value(key) else { return nil }
        return try JSONObjectReader(value, path: fieldPath(key))
    }

    /// Throws `unknown_field` for the first field that no accessor read.
    package func rejectUnknownFields() throws {
        if let extra = fields.keys.sorted().first(where: { !consumed.contains($0) }) {
            throw ServiceError.unknownField(path: fieldPath(extra))
        }
    }
}

extension JSONValue: Codable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number):
            // Whole numbers print without a fraction so `"epochs": 10` stays `10`.
            if number.rounded() == number, abs(number) < 1e15 {
                try container.encode(Int64(number))
            } else {
                try container.encode(number)
            }
        case .string(let text): try container.encode(text)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }
}
