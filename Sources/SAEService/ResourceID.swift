/// Ids that clients send for jobs, models and datasets; model and dataset ids become file and
/// directory names.
///
/// A valid id is 1 to 128 ASCII letters, digits, `_` or `-`, so it can never hold `/`, `.`
/// or `..` and never names anything outside its own folder.
package enum ResourceID {
    /// Whether `id` has the shape of an id this server gives out.
    package static func isValid(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D
        }
    }

    /// `id` when it is valid; otherwise throws 400 `invalid_field` naming `field`.
    package static func checked(_ id: String, field: String = "id") throws -> String {
        guard isValid(id) else {
            throw ServiceError.invalidField(
                path: field, message: "must be 1 to 128 letters, digits, '_' or '-', got \"\(id.prefix(80))\"")
        }
        return id
    }
}
