import Foundation

/// Fast JSON for the one shape the model routes move in bulk: an array of equal-width numeric
/// rows. Parsing goes straight from the request bytes into one row-major `[Float]`, checking
/// each row's width and each value as it goes; writing formats floats without building
/// intermediate objects. Other fields of the body are parsed normally.
///
/// The general parser (JSONSerialization) needs about 1 KB of objects per number, which makes a
/// 4096 × 784 body cost seconds and gigabytes; this reads the same body in tens of milliseconds.
package enum MatrixJSON {
    /// A body of the form `{"<field>": [[...], ...], ...}`.
    package struct Body {
        package var rows: Int
        /// `rows × width` values, row-major.
        package var values: [Float]
        /// Every other field of the object, by name.
        package var fields: [String: JSONValue]
    }

    /// What a value sent for a float32 must be; messages add what was sent.
    package static let finiteRule = "must be a finite float32 (magnitude at most 3.4e38)"

    /// Parses `bytes` as a JSON object whose `field` holds at most `maxRows` rows of `width`
    /// numbers. Throws `ServiceError` naming the first fault: `inputs[3]: expected 784 values,
    /// got 783`, `inputs[0][5]: must be a finite float32`, malformed JSON with its byte offset.
    package static func parse(_ bytes: [UInt8], field: String, width: Int, maxRows: Int) throws -> Body {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer, field: field, width: width, maxRows: maxRows)
            return try parser.parseBody()
        }
    }

    /// Appends `[[v, ...], ...]` for `rows` rows of `width` values. Throws when a value is not
    /// finite (JSON cannot carry it), naming the row.
    package static func appendRows(_ values: [Float], width: Int, to out: inout [UInt8], what: String) throws {
        out.append(UInt8(ascii: "["))
        let rows = width == 0 ? 0 : values.count / width
        for row in 0..<rows {
            if row > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for column in 0..<width {
                let value = values[row * width + column]
                guard value.isFinite else { throw ServiceError.nonFiniteOutput(what: what, row: row) }
                if column > 0 { out.append(UInt8(ascii: ",")) }
                appendNumber(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends each row as `{"indices": [...], "values": [...]}` of its non-zero entries.
    package static func appendSparseRows(_ values: [Float], width: Int, to out: inout [UInt8], what: String) throws {
        out.append(UInt8(ascii: "["))
        let rows = width == 0 ? 0 : values.count / width
        for row in 0..<rows {
            let entries = (row * width..<(row + 1) * width).filter { values[$0] != 0 }
            guard entries.allSatisfy({ values[$0].isFinite }) else {
                throw ServiceError.nonFiniteOutput(what: what, row: row)
            }
            if row > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"indices":["#.utf8)
            for (position, entry) in entries.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: String(entry - row * width).utf8)
            }
            out.append(contentsOf: #"],"values":["#.utf8)
            for (position, entry) in entries.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendNumber(values[entry], to: &out)
            }
            out.append(contentsOf: "]}".utf8)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends `[v, ...]` of finite doubles.
    package static func appendList(_ values: [Double], to out: inout [UInt8], what: String) throws {
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            guard value.isFinite else { throw ServiceError.nonFiniteOutput(what: what, row: index) }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: (value == 0 ? "0" : value.description).utf8)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends a finite float as its shortest round-trip decimal (`0.1`, `1e-05`, `0`).
    package static func appendNumber(_ value: Float, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
        } else {
            // A float's description is a small string, stored inline: its bytes are copied
            // straight from it, without the generic per-character append.
            var text = value.description
            text.withUTF8 { out.append(contentsOf: $0) }
        }
    }
}

extension MatrixJSON {
    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let field: String
        let width: Int
        let maxRows: Int
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>, field: String, width: Int, maxRows: Int) {
            self.bytes = bytes
            self.field = field
            self.width = width
            self.maxRows = maxRows
        }

        mutating func parseBody() throws -> Body {
            skipSpace()
            guard index < bytes.count else { throw ServiceError.malformedJSON("the request body is empty; a JSON object was expected") }
            try expect(UInt8(ascii: "{"), "a JSON object")
            var matrix: (rows: Int, values: [Float])?
            var fields: [String: JSONValue] = [:]
            var keys = Set<String>()
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipSpace()
                    let key = try parseString()
                    guard keys.insert(key).inserted else { throw ServiceError.repeatedField(key) }
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "':' after a key")
                    skipSpace()
                    if key == field && peek() == UInt8(ascii: "[") {
                        matrix = try parseMatrix()
                    } else {
                        fields[key] = try parseOtherValue()
                    }
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "}"), "',' or '}' in the object")
                    break
                }
            }
            skipSpace()
            guard index == bytes.count else { throw malformed("unexpected bytes after the JSON object") }
            guard let matrix else {
                if let other = fields[field] {
                    throw ServiceError.invalidField(path: field, message: "must be an array of rows, got \(other.typeName)")
                }
                throw ServiceError.invalidField(path: field, message: "is required")
            }
            return Body(rows: matrix.rows, values: matrix.values, fields: fields)
        }

        /// `[[n, ...], ...]`, each row exactly `width` finite numbers.
        mutating func parseMatrix() throws -> (rows: Int, values: [Float]) {
            index += 1  // '['
            var values: [Float] = []
            values.reserveCapacity(width)
            var rows = 0
            skipSpace()
            if peek() == UInt8(ascii: "]") {
                throw ServiceError.invalidField(path: field, message: "must hold at least one row")
            }
            while true {
                skipSpace()
                guard rows < maxRows else {
                    throw ServiceError.invalidField(path: field, message: "holds more than \(maxRows) rows; the limit is \(maxRows)")
                }
                guard peek() == UInt8(ascii: "[") else {
                    let value = try parseOtherValue()
                    throw ServiceError.invalidField(path: "\(field)[\(rows)]", message: "must be an array of numbers, got \(value.typeName)")
                }
                try parseRow(rows, into: &values)
                rows += 1
                skipSpace()
                if peek() == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']' in \(field)")
                return (rows, values)
            }
        }

        mutating func parseRow(_ row: Int, into values: inout [Float]) throws {
            index += 1  // '['
            // The row's slots, filled in place. A row of another length is refused below, so
            // slots it leaves unfilled are never read.
            let rowStart = values.count
            values.append(contentsOf: repeatElement(0, count: width))
            var count = 0
            skipSpace()
            if peek() != UInt8(ascii: "]") {
                while true {
                    skipSpace()
                    let taken =
                        count < width
                        ? values.withUnsafeMutableBufferPointer { slots in
                            // safe: the row's slots were appended above, so the buffer is not empty
                            readPlainValues(into: slots.baseAddress! + rowStart + count, capacity: width - count)
                        } : 0
                    if taken > 0 {
                        count += taken
                    } else {
                        // The path is only spelt out for an error: building it per value would
                        // cost more than parsing the value.
                        guard let next = peek(), next == UInt8(ascii: "-") || (next >= 48 && next <= 57) else {
                            let value = try parseOtherValue()
                            throw ServiceError.invalidField(
                                path: "\(field)[\(row)][\(count)]", message: "must be a number, got \(value.typeName)")
                        }
                        let start = index
                        let number = try parsePlainNumber() ?? parseNumber()
                        guard number.isFinite else {
                            // Quoted as sent: 1e300 becomes inf only as a float32.
                            let text = String(decoding: bytes[start..<index], as: UTF8.self)
                            throw ServiceError.invalidField(
                                path: "\(field)[\(row)][\(count)]", message: "\(MatrixJSON.finiteRule), got \(text)")
                        }
                        if count < width { values[rowStart + count] = number }
                        count += 1
                    }
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { index += 1; continue }
                    break
                }
            }
            try expect(UInt8(ascii: "]"), "',' or ']' in \(field)[\(row)]")
            guard count == width else {
                throw ServiceError.invalidField(path: "\(field)[\(row)]", message: "expected \(width) values, got \(count)")
            }
        }

        /// Reads values while they come as plain numbers (`plainNumber`) separated by bare
        /// commas, the usual shape of a row, into `slots`, at most `capacity` of them; returns
        /// how many it read, with `index` just past the last. It stops before a comma that is
        /// not followed by a plain number, and takes nothing when the first value is not one:
        /// spaces, exponents, long or malformed numbers and the row's end are left to the
        /// per-value path, which then reads or reports them as it would have anyway.
        ///
        /// Each value and comma taken here is one that path would have taken, with the same
        /// float, in one tight loop over local state.
        mutating func readPlainValues(into slots: UnsafeMutablePointer<Float>, capacity: Int) -> Int {
            guard let base = bytes.baseAddress, let first = Self.plainNumber(base, end: bytes.count, at: index) else {
                return 0
            }
            let end = bytes.count
            slots[0] = first.value
            var position = first.end
            var taken = 1
            while taken < capacity, position < end, base[position] == UInt8(ascii: ","),
                  let next = Self.plainNumber(base, end: end, at: position + 1) {
                slots[taken] = next.value
                position = next.end
                taken += 1
            }
            index = position
            return taken
        }

        /// A JSON number, checked against the grammar and rounded to the nearest float.
        ///
        /// Most numbers take `DecimalScan`'s exact fast path; the rest go to `strtof`. The scan
        /// is one pass over the bytes, as this runs for every value of every row.
        mutating func parseNumber() throws -> Float {
            let start = index
            var scan = DecimalScan()
            if index < bytes.count && bytes[index] == UInt8(ascii: "-") {
                scan.isNegative = true
                index += 1
            }
            let integerStart = index
            let integerDigits = scanDigits(into: &scan, isFraction: false)
            guard integerDigits > 0 else { throw malformed("a number has no digits") }
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
                index = start
                throw malformed("a number has a leading zero")
            }
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard scanDigits(into: &scan, isFraction: true) > 0 else {
                    throw malformed("a number has no digits after '.'")
                }
            }
            if index < bytes.count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
                index += 1
                var isNegative = false
                if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                    isNegative = bytes[index] == UInt8(ascii: "-")
                    index += 1
                }
                var exponent = 0
                let digitsStart = index
                while index < bytes.count, case let digit = bytes[index] &- 48, digit < 10 {
                    exponent = min(exponent * 10 + Int(digit), 100_000)
                    index += 1
                }
                guard index > digitsStart else { throw malformed("a number has no exponent digits") }
                scan.exponent += isNegative ? -exponent : exponent
            }
            if let value = scan.exactValue { return value }
            // Long digit strings are valid JSON too: strtof reads any length exactly. The
            // allocation is on the stack for the usual few dozen bytes, on the heap beyond.
            let length = index - start
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { text in
                for offset in 0..<length { text[offset] = CChar(bitPattern: bytes[start + offset]) }
                text[length] = 0
                return strtof(text.baseAddress!, nil)  // safe: the allocation has length + 1 > 0 slots
            }
        }

        /// The plain number at `index` (see `plainNumber`), moving past it; nil, with nothing
        /// consumed, for anything else (which `parseNumber` then reads or reports).
        mutating func parsePlainNumber() -> Float? {
            guard let base = bytes.baseAddress, let number = Self.plainNumber(base, end: bytes.count, at: index) else {
                return nil
            }
            index = number.end
            return number.value
        }

        /// The common shape of number, `-?digits(.digits)?` with at most 18 digits and no
        /// exponent, read in one tight pass over the bytes from `start`: its float and the
        /// index just past it; nil for anything else.
        ///
        /// Such a number is an integer below 10^18 times 10^-(fraction digits). When the
        /// integer fits in 53 bits and there are at most 22 fraction digits, this gives the
        /// float `DecimalScan` gives, by the same arithmetic: the correctly rounded float.
        @inline(__always)
        static func plainNumber(
            _ base: UnsafePointer<UInt8>, end: Int, at start: Int
        ) -> (value: Float, end: Int)? {
            var position = start
            let isNegative = position < end && base[position] == UInt8(ascii: "-")
            if isNegative { position += 1 }
            guard position < end, case let first = base[position] &- 48, first < 10 else { return nil }
            var significand: UInt64
            var digits: Int
            if position + 1 < end && base[position + 1] &- 48 >= 10 {
                // One integer digit, as in most values of a normalized row: no run to scan.
                significand = UInt64(first)
                digits = 1
                position += 1
            } else {
                significand = 0
                let integerStart = position
                digits = scanDigitRun(base, end: end, at: &position, into: &significand)
                // `0` followed by digits is not JSON; `parseNumber` reports it.
                guard digits == 1 || base[integerStart] != UInt8(ascii: "0") else { return nil }
            }
            var fractionDigits = 0
            if position < end && base[position] == UInt8(ascii: ".") {
                position += 1
                fractionDigits = scanDigitRun(base, end: end, at: &position, into: &significand)
                guard fractionDigits > 0 else { return nil }
                digits += fractionDigits
            }
            // Beyond 18 digits the significand may have wrapped; `parseNumber` reads it.
            guard digits <= 18, significand <= 1 << 53, fractionDigits <= 22 else { return nil }
            if position < end && (base[position] | 0x20) == UInt8(ascii: "e") { return nil }
            if significand <= 1 << 24 && fractionDigits <= 10 {
                // Both operands are exact floats, so one float division rounds correctly.
                let value = Float(significand) / DecimalScan.floatPowerOfTen(fractionDigits)
                return (isNegative ? -value : value, position)
            }
            var value = Double(significand)
            if fractionDigits > 0 && significand != 0 {
                value =
                    DecimalScan.nearlyExactProduct(value, exponent: -fractionDigits)
                    ?? value / DecimalScan.powerOfTen(UInt(fractionDigits))
            }
            return (isNegative ? -Float(value) : Float(value), position)
        }

        /// Appends the run of ASCII digits at `position` to `significand` (which wraps past
        /// 19 digits; the caller counts them) and moves past it; returns the run's length.
        ///
        /// Eight bytes are examined at once while eight remain: a byte is a digit when its high
        /// nibble is 3 both as it is and after adding 6 (which carries out of '0'...'9' only
        /// from ':' up). A carry out of a byte of 0xFA or more can only disturb the bytes after
        /// it, which lie past the run's end. The run's digits then combine pairwise, in three
        /// multiplications, into one number.
        @inline(__always)
        static func scanDigitRun(
            _ base: UnsafePointer<UInt8>, end: Int, at position: inout Int, into significand: inout UInt64
        ) -> Int {
            let start = position
            while end - position >= 8 {
                let chunk = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                let high = chunk & 0xF0F0_F0F0_F0F0_F0F0
                let raised = (chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0
                let nonDigits = (high ^ 0x3030_3030_3030_3030) | (raised ^ 0x3030_3030_3030_3030)
                let count = nonDigits.trailingZeroBitCount / 8
                guard count > 0 else { return position - start }
                // The run's digits in the top bytes, the first digit lowest; zero bytes below
                // them read as leading zeros.
                var value = (chunk & 0x0F0F_0F0F_0F0F_0F0F) << (64 - 8 * count)
                value = ((value & 0x0F0F_0F0F_0F0F_0F0F) &* (10 << 8 + 1)) >> 8
                value = ((value & 0x00FF_00FF_00FF_00FF) &* (100 << 16 + 1)) >> 16
                value = ((value & 0x0000_FFFF_0000_FFFF) &* (10_000 << 32 + 1)) >> 32
                significand = significand &* Self.powerOfTen(count) &+ value
                position += count
                if count < 8 { return position - start }
            }
            while position < end, case let digit = base[position] &- 48, digit < 10 {
                significand = significand &* 10 &+ UInt64(digit)
                position += 1
            }
            return position - start
        }

        /// 10^`count` for `count` in 1...8.
        @inline(__always)
        static func powerOfTen(_ count: Int) -> UInt64 {
            switch count {
            case 1: 10
            case 2: 100
            case 3: 1_000
            case 4: 10_000
            case 5: 100_000
            case 6: 1_000_000
            case 7: 10_000_000
            default: 100_000_000
            }
        }

        /// Reads a run of digits into `scan` (as fraction digits when `isFraction`); returns
        /// how many there were.
        mutating func scanDigits(into scan: inout DecimalScan, isFraction: Bool) -> Int {
            let start = index
            while index < bytes.count, case let digit = bytes[index] &- 48, digit < 10 {
                scan.append(digit: digit)
                index += 1
            }
            if isFraction { scan.exponent -= index - start }
            return index - start
        }

        /// A string, unescaped by the general parser when it holds escapes.
        mutating func parseString() throws -> String {
            guard peek() == UInt8(ascii: "\"") else { throw malformed("a key (a string) was expected") }
            let start = index
            index += 1
            var hasEscape = false
            while let byte = peek(), byte != UInt8(ascii: "\"") {
                if byte == UInt8(ascii: "\\") { hasEscape = true; index += 1 }
                index += 1
            }
            try expect(UInt8(ascii: "\""), "the end of a string")
            guard hasEscape else { return String(decoding: bytes[start + 1..<index - 1], as: UTF8.self) }
            guard case .string(let text) = try JSONValue.parse(Array(bytes[start..<index])) else {
                throw malformed("a key is not a valid string")
            }
            return text
        }

        /// A value outside the matrix, by the general parser. A fault in it is reported at its
        /// place in the body: the general parser would count from the value's own start.
        mutating func parseOtherValue() throws -> JSONValue {
            let start = index
            try skipValue()
            do {
                return try JSONValue.parse(Array(bytes[start..<index]))
            } catch ServiceError.malformedJSON {
                let end = index
                index = start
                let text = String(decoding: bytes[start..<min(end, start + 40)], as: UTF8.self)
                throw malformed("the value \"\(text)\" is not valid JSON")
            }
        }

        /// Moves past one JSON value of any kind, tracking nesting and strings only; the value
        /// itself is checked when it is parsed.
        mutating func skipValue() throws {
            guard let first = peek() else { throw malformed("a value was expected") }
            if first == UInt8(ascii: "\"") {
                _ = try parseString()
                return
            }
            if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
                var depth = 0
                while let byte = peek() {
                    if byte == UInt8(ascii: "\"") {
                        _ = try parseString()
                        continue
                    }
                    if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                        depth += 1
                    } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return
                        }
                    }
                    index += 1
                }
                throw malformed("the body ends inside a value")
            }
            let start = index
            let ends: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09]
            while let byte = peek(), !ends.contains(byte) { index += 1 }
            if index == start { throw malformed("a value was expected") }
        }

        func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            guard peek() == byte else { throw malformed("expected \(what)") }
            index += 1
        }

        func malformed(_ what: String) -> ServiceError {
            .malformedJSON("the request body is not valid JSON: \(what) at byte \(index)")
        }
    }
}

/// A decimal number as digits and a power of ten, gathered while scanning, with an exact
/// conversion for the common case.
///
/// When the significand fits in 53 bits and the power of ten is at most 22 in magnitude,
/// both are exact doubles, so one IEEE multiplication or division gives the correctly
/// rounded double (Clinger's fast path). Rounding that double to float is then correct too:
/// rounding an exact operation's result first to 53 and then to 24 bits equals rounding it
/// to 24 bits directly, because 53 ≥ 2 × 24 + 2 (Figueroa, 1995). Anything else (long
/// significands, large exponents) is left to `strtof`.
struct DecimalScan {
    var isNegative = false
    /// The digits read so far, as an integer.
    var significand: UInt64 = 0
    /// The power of ten to scale `significand` by.
    var exponent = 0
    /// Set once a digit did not fit: the fast path no longer applies.
    var isInexact = false

    /// Above this, one more digit may take the significand past 2^53.
    private static let maxBeforeDigit: UInt64 = ((1 << 53) - 9) / 10

    mutating func append(digit: UInt8) {
        if significand <= Self.maxBeforeDigit {
            significand = significand * 10 + UInt64(digit)
        } else {
            isInexact = true
        }
    }

    /// The float nearest to the number, or nil when the fast path does not apply.
    var exactValue: Float? {
        guard !isInexact else { return nil }
        var value = Double(significand)
        if significand != 0 && exponent != 0 {
            guard exponent >= -22 && exponent <= 22 else { return nil }
            if exponent > 0 {
                value *= Self.powerOfTen(exponent.magnitude)
            } else if let product = Self.nearlyExactProduct(value, exponent: exponent) {
                value = product
            } else {
                value /= Self.powerOfTen(exponent.magnitude)
            }
        }
        let float = Float(value)
        return isNegative ? -float : float
    }

    /// `value × 10^exponent` (exponent in -22..<0) by multiplying with the double nearest to
    /// 10^exponent, when that is sure to round to the same float as the exact quotient; nil
    /// when it might not, for the division to decide.
    ///
    /// A multiplication costs a fraction of a division. The product is within 2 ulps (double)
    /// of the exact value: 10^exponent is off by at most half an ulp, the rounding of the
    /// product adds another half. Rounding to float goes wrong only when that distance spans
    /// a float rounding boundary (the midpoint between two floats), which shows in the 29
    /// low mantissa bits the float drops: they must not lie within a few units of half.
    @inline(__always)
    static func nearlyExactProduct(_ value: Double, exponent: Int) -> Double? {
        let product = value * Self.negativePowerOfTen(exponent.magnitude)
        let dropped = product.bitPattern & ((1 << 29) - 1)
        let distance = dropped > (1 << 28) ? dropped - (1 << 28) : (1 << 28) - dropped
        return distance > 4 ? product : nil
    }

    /// The double nearest to 10^-`power`, for `power` in 1...22.
    @inline(__always)
    private static func negativePowerOfTen(_ power: UInt) -> Double {
        switch power {
        case 1: 1e-1
        case 2: 1e-2
        case 3: 1e-3
        case 4: 1e-4
        case 5: 1e-5
        case 6: 1e-6
        case 7: 1e-7
        case 8: 1e-8
        case 9: 1e-9
        case 10: 1e-10
        case 11: 1e-11
        case 12: 1e-12
        case 13: 1e-13
        case 14: 1e-14
        case 15: 1e-15
        case 16: 1e-16
        case 17: 1e-17
        case 18: 1e-18
        case 19: 1e-19
        case 20: 1e-20
        case 21: 1e-21
        default: 1e-22
        }
    }

    /// 10^`power` for `power` in 0...10, each exact in a float (5^10 < 2^24).
    @inline(__always)
    static func floatPowerOfTen(_ power: Int) -> Float {
        Float(powerOfTen(UInt(min(power, 10))))
    }

    /// 10^`power` for `power` in 0...22, each exact in a double.
    @inline(__always)
    static func powerOfTen(_ power: UInt) -> Double {
        switch power {
        case 0: 1
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }
}
