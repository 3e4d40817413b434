import Foundation

/// A `multipart/form-data` body (RFC 7578) split into its named parts, as `curl -F` sends it.
///
/// Only what a form upload needs is read: each part's `name` from its `Content-Disposition`,
/// and its bytes. Part headers are otherwise ignored; a name sent twice is refused.
package struct MultipartForm: Sendable {
    /// The bytes of each part, by its form name.
    package var parts: [String: [UInt8]]

    /// The boundary of a `multipart/form-data` content type, or nil for a type that is not
    /// multipart at all (the body is then the file itself).
    ///
    /// Throws 415 `unsupported_media_type` for another multipart type (`multipart/mixed`), and
    /// 400 `invalid_field` naming `Content-Type` when `multipart/form-data` comes without a
    /// boundary, so a form is never read as a bare file.
    package static func boundary(ofContentType contentType: String?) throws -> String? {
        guard let contentType else { return nil }
        let (mediaType, parameters) = headerValue(contentType)
        guard mediaType.hasPrefix("multipart/") else { return nil }
        guard mediaType == "multipart/form-data" else {
            throw ServiceError.unsupportedMediaType(
                "\(mediaType) is not accepted here; send multipart/form-data (curl -F) or the file itself")
        }
        guard let boundary = parameters["boundary"], !boundary.isEmpty else {
            throw ServiceError.invalidField(
                path: "Content-Type",
                message: "multipart/form-data needs a boundary parameter (\"multipart/form-data; boundary=...\")")
        }
        return boundary
    }

    /// A header value split into its lowercased leading token and its `;` parameters, with
    /// parameter names lowercased and quoted values unquoted (RFC 9110 quoted-string, so a `;`
    /// or `\"` inside quotes belongs to the value).
    static func headerValue(_ value: String) -> (token: String, parameters: [String: String]) {
        var pieces: [String] = []
        var current = ""
        var isQuoted = false
        var isEscaped = false
        for character in value {
            if isEscaped {
                current.append(character)
                isEscaped = false
            } else if isQuoted && character == "\\" {
                isEscaped = true
            } else if character == "\"" {
                isQuoted.toggle()
            } else if character == ";" && !isQuoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        let token = pieces[0].trimmingCharacters(in: .whitespaces).lowercased()
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let name = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            if parameters[name] == nil {
                parameters[name] = pair[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return (token, parameters)
    }

    /// Splits `body` at `boundary`. Throws 400 `invalid_field` naming `(body)` when the body
    /// does not follow the format: no opening or closing boundary, or a part without headers
    /// or a name; or naming the part when its name comes twice.
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
            guard parts[name] == nil else {
                throw ServiceError.invalidField(path: name, message: "is sent twice; send each form part once")
            }
            parts[name] = Array(body[(headerEnd + 4)..<end])
            cursor = end + delimiter.count
        }
        self.parts = parts
    }

    /// The `name` parameter of a part's `Content-Disposition: form-data` header.
    private static func partName(_ headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == "content-disposition" else { continue }
            return headerValue(String(pair[1])).parameters["name"]
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
