import Foundation

/// A `multipart/form-data` body (RFC 7578) split into its named parts, as `curl -F` sends it.
///
/// Only what a form upload needs is read: each part's `name` from its `Content-Disposition`,
/// and its bytes. Part headers are otherwise ignored; a repeated name keeps the first part.
package struct MultipartForm: Sendable {
    /// The bytes of each part, by its form name.
    package var parts: [String: [UInt8]]

    /// The boundary of a `multipart/form-data` content type, or nil for any other type.
    package static func boundary(ofContentType contentType: String?) -> String? {
        guard let contentType else { return nil }
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            let value = piece.dropFirst("boundary=".count)
            let unquoted = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2
                ? value.dropFirst().dropLast() : value
            return unquoted.isEmpty ? nil : String(unquoted)
        }
        return nil
    }

    /// Splits `body` at `boundary`. Throws 400 `invalid_field` naming `(body)` when the body
    /// does not follow the format: no opening or closing boundary, or a part without headers
    /// or a name.
    package init(_ body: [UInt8], boundary: String) throws {
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter = Array("\r\n".utf8) + dashBoundary
        guard var cursor = Self.find(dashBoundary, in: body, from: 0) else {
            throw Self.malformed("does not contain the boundary \"\(boundary)\"")
        }
        cursor += dashBoundary.count
        var parts: [String: [UInt8]] = [:]
        while true {
            // After a boundary: "--" ends the body, CRLF starts a part.
            if body[cursor...].starts(with: Array("--".utf8)) { break }
            guard body[cursor...].starts(with: Array("\r\n".utf8)) else {
                throw Self.malformed("has a boundary not followed by a line break at byte \(cursor)")
            }
            let headerStart = cursor + 2
            guard let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: body, from: headerStart) else {
                throw Self.malformed("has a part without a blank line after its headers at byte \(headerStart)")
            }
            guard let end = Self.find(delimiter, in: body, from: headerEnd + 4) else {
                throw Self.malformed("does not end with the closing boundary \"--\(boundary)--\"")
            }
            let headers = String(decoding: body[headerStart..<headerEnd], as: UTF8.self)
            guard let name = Self.partName(headers) else {
                throw Self.malformed("has a part at byte \(headerStart) without a Content-Disposition name")
            }
            if parts[name] == nil { parts[name] = Array(body[(headerEnd + 4)..<end]) }
            cursor = end + delimiter.count
        }
        self.parts = parts
    }

    /// The `name` parameter of a part's `Content-Disposition: form-data` header.
    private static func partName(_ headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == "content-disposition" else { continue }
            for parameter in pair[1].split(separator: ";") {
                let trimmed = parameter.trimmingCharacters(in: .whitespaces)
                guard trimmed.lowercased().hasPrefix("name=") else { continue }
                var value = trimmed.dropFirst("name=".count)
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                    value = value.dropFirst().dropLast()
                }
                return String(value)
            }
        }
        return nil
    }

    /// The first index at or after `start` where `needle` occurs in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func malformed(_ message: String) -> ServiceError {
        .invalidField(path: "(body)", message: "the multipart/form-data body \(message)")
    }
}
