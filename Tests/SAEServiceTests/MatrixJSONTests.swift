import Foundation
import Testing
import SAECore
@testable import SAEService

struct MatrixJSONTests {
    static func parse(_ text: String, width: Int = 3, maxRows: Int = 10) throws -> MatrixJSON.Body {
        try MatrixJSON.parse(Array(text.utf8), field: "inputs", width: width, maxRows: maxRows)
    }

    @Test func rowsBecomeOneRowMajorBufferAndOtherFieldsAreKept() throws {
        let body = try Self.parse(#" { "format" : "sparse", "inputs": [[1, -2.5, 3e-2], [0,0.125 ,1E2]], "x\u0041": {"a": [1]} } "#)
        #expect(body.rows == 2)
        #expect(body.values == [1, -2.5, 0.03, 0, 0.125, 100])
        #expect(body.fields["format"] == .string("sparse"))
        #expect(body.fields["xA"] == .object(["a": .array([.number(1)])]))
    }

    @Test func valuesMatchTheGeneralParserBitForBit() throws {
        var generator = SystemRandomNumberGenerator()
        let numbers = (0..<500).map { _ in Float.random(in: -1000...1000, using: &generator) * Float(pow(10.0, Double.random(in: -30...30))) }
        let text = "{\"inputs\": [[" + numbers.map { "\(Double($0))" }.joined(separator: ",") + "]]}"
        let body = try Self.parse(text, width: numbers.count)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [[Double]]]
        let reference = (object?["inputs"]?[0] ?? []).map { Float($0) }
        #expect(body.values == reference)
    }

    /// The fast decimal path against libc's correctly rounded `strtof`, on numbers with 1 to
    /// 17 significant digits and exponents across and beyond the fast path's range, plus
    /// values halfway between two floats (where double rounding would show).
    @Test func valuesMatchStrtofBitForBit() throws {
        var generator = SeededGenerator(seed: 7)
        var texts: [String] = []
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...17, using: &generator)
            var significand = String(Int.random(in: 1...9, using: &generator))
            for _ in 1..<digits { significand += String(Int.random(in: 0...9, using: &generator)) }
            let point = Int.random(in: 0...digits, using: &generator)
            var text = String(significand.prefix(point)) + (point < digits ? "." + significand.dropFirst(point) : "")
            if text.hasPrefix(".") { text = "0" + text }
            // Exponents from far below to just inside the float range (the value stays finite).
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -35...(37 - point), using: &generator))" }
            texts.append(Bool.random(using: &generator) ? "-" + text : text)
        }
        // Exact midpoints between neighbouring floats near 1 and 1000, written out in full.
        for base in [Float(1), 1000, 0.1] {
            let low = base, high = base.nextUp
            let middle = (Double(low) + Double(high)) / 2
            texts.append(String(format: "%.30g", middle))
        }
        // Numbers a hair off midpoints, with 9 to 17 digits: where a fast path that is only
        // nearly exact would round the wrong way.
        for _ in 0..<2_000 {
            let low = Float.random(in: 1e-6...1e6, using: &generator)
            let middle = (Double(low) + Double(low.nextUp)) / 2
            let digits = Int.random(in: 9...17, using: &generator)
            texts.append(String(format: "%.\(digits)g", middle))
        }
        let text = "{\"inputs\": [[" + texts.joined(separator: ",") + "]]}"
        let body = try Self.parse(text, width: texts.count)
        var mismatches: [String] = []
        for (index, number) in texts.enumerated() where body.values[index].bitPattern != strtof(number, nil).bitPattern {
            mismatches.append("\(number): \(body.values[index]) vs \(strtof(number, nil))")
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// Digit runs of every length from 1 to 18 on both sides of the point, each followed by
    /// each kind of byte that may end a number, read eight bytes at a time or (near the end of
    /// the body) one at a time: every value equals `strtof`'s.
    @Test func digitRunsOfEveryLengthAndEndingMatchStrtof() throws {
        let digits = "918273645546372819"
        var texts: [String] = []
        for integer in 1...18 {
            for fraction in 0...(18 - integer) {
                let text = String(digits.prefix(integer)) + (fraction > 0 ? "." + String(digits.suffix(fraction)) : "")
                texts.append(integer % 2 == 0 ? "-" + text : text)
            }
        }
        texts += ["0", "-0", "0.0000", "0.00000000000000000001", "9007199254740993", "1.5"]
        let separators = [",", " ,", "\n,", "\t ,", "\r\n,"]
        var body = "{\"inputs\": [["
        for (index, text) in texts.enumerated() {
            body += text + (index == texts.count - 1 ? "" : separators[index % separators.count])
        }
        body += "]]}"
        let parsed = try Self.parse(body, width: texts.count)
        for (index, text) in texts.enumerated() {
            #expect(parsed.values[index].bitPattern == strtof(text, nil).bitPattern, "\(text)")
        }
    }

    @Test(arguments: [
        (#"{"inputs": [[1, 2, 3], [1, 2]]}"#, "inputs[1]", "expected 3 values, got 2"),
        (#"{"inputs": [[1, 2, 3, 4]]}"#, "inputs[0]", "expected 3 values, got 4"),
        (#"{"inputs": [[1, "2", 3]]}"#, "inputs[0][1]", "must be a number, got a string"),
        (#"{"inputs": [[1, null, 3]]}"#, "inputs[0][1]", "must be a number, got null"),
        (#"{"inputs": [[1, 2, 1e39]]}"#, "inputs[0][2]", "must be a finite float32 (magnitude at most 3.4e38), got 1e39"),
        (#"{"inputs": [{"a": 1}]}"#, "inputs[0]", "must be an array of numbers, got an object"),
        (#"{"inputs": []}"#, "inputs", "at least one row"),
        (#"{"inputs": 5}"#, "inputs", "must be an array of rows, got a number"),
        (#"{"rows": [[1, 2, 3]]}"#, "inputs", "is required"),
        (#"{"inputs": [[1,2,3],[1,2,3],[1,2,3]]}"#, "inputs", "the limit is 2"),
    ])
    func badRowsNameTheirPlace(body: String, path: String, message: String) throws {
        do {
            _ = try Self.parse(body, maxRows: 2)
            Issue.record("accepted \(body)")
        } catch let error as ServiceError {
            #expect(error.field == path)
            #expect(error.message.contains(message), "message: \(error.message)")
        }
    }

    @Test(arguments: [#"{"inputs": [[1, 2, 3]"#, #"{"inputs": [[1, 2, 3]]} x"#, #"{"inputs": [[1, 2, 03.]]}"#,
                      #"{"inputs": [[1, 2, -]]}"#, "", #"{"inputs" [[1,2,3]]}"#, #"{"inputs": [[1,2,3]], "f": tru}"#])
    func malformedBodiesAreMalformedJSON(body: String) throws {
        #expect(throws: ServiceError.self) { try Self.parse(body) }
        do {
            _ = try Self.parse(body)
        } catch let error as ServiceError {
            #expect(error.code == "malformed_json" || error.code == "invalid_field", "\(error.code): \(error.message)")
        }
    }

    /// Rows written without spaces, read by the loop over comma-separated plain numbers, give
    /// `strtof`'s floats, including either side of 2^24 (where the one float division gives
    /// way to the double path) and up to 10 fraction digits.
    @Test func compactRowsMatchStrtofAcrossTheFloatDivisionLimit() throws {
        var texts = ["16777216", "16777217", "1.6777216", "1.6777217", "-0.16777215", "0.0000000001",
                     "0.1234567891", "9.999999999", "0", "-0", "0.0", "7", "-7.5", "123456.7",
                     "0.33333334", "1677721.6", "16777216.1"]
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<3_000 {
            let fraction = Int.random(in: 1...10, using: &generator)
            let integer = Int.random(in: 0...99_999, using: &generator)
            let digits = (0..<fraction).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            texts.append((Bool.random(using: &generator) ? "-" : "") + "\(integer).\(digits)")
        }
        let body = try Self.parse(#"{"inputs":[["# + texts.joined(separator: ",") + "]]}", width: texts.count)
        for (index, text) in texts.enumerated() {
            #expect(body.values[index].bitPattern == strtof(text, nil).bitPattern, "\(text)")
        }
    }

    /// The same faults in compact rows, where values are read many at a time: each is still
    /// named at its row and column or its byte.
    @Test(arguments: [
        (#"{"inputs":[[1,2,3,4]]}"#, "inputs[0]", "expected 3 values, got 4"),
        (#"{"inputs":[[1,2,3],[4,5]]}"#, "inputs[1]", "expected 3 values, got 2"),
        (#"{"inputs":[[1,2,"3"]]}"#, "inputs[0][2]", "must be a number, got a string"),
        (#"{"inputs":[[1,2,1e39]]}"#, "inputs[0][2]", "must be a finite float32 (magnitude at most 3.4e38), got 1e39"),
        (#"{"inputs":[[1,2,]]}"#, "(body)", "a value was expected at byte 16"),
        (#"{"inputs":[[1,02,3]]}"#, "(body)", "a number has a leading zero at byte 14"),
        (#"{"inputs":[[1,2.,3]]}"#, "(body)", "a number has no digits after '.' at byte 16"),
        (#"{"inputs":[[1,2,3x]]}"#, "(body)", "expected ',' or ']' in inputs[0] at byte 17"),
    ])
    func compactRowFaultsNameTheirPlace(body: String, path: String, message: String) throws {
        do {
            let parsed = try Self.parse(body)
            Issue.record("accepted \(body) as \(parsed.values)")
        } catch let error as ServiceError {
            if path != "(body)" { #expect(error.field == path) }
            #expect(error.message.contains(message), "message: \(error.message)")
        }
    }

    /// JSON forbids leading zeros (`01`, `-00.5`); the fast path refused them no more than the
    /// general parser accepts them. Each is malformed JSON at the number's first byte.
    @Test(arguments: ["01", "-01", "00", "00.5", "-00.5", "0123456789", "007e1"])
    func numbersWithLeadingZerosAreMalformed(number: String) throws {
        let body = #"{"inputs": [[1, "# + number + ", 3]]}"
        do {
            let parsed = try Self.parse(body)
            Issue.record("accepted \(number) as \(parsed.values)")
        } catch let error as ServiceError {
            #expect(error.code == "malformed_json")
            #expect(error.message == "the request body is not valid JSON: a number has a leading zero at byte 16")
        }
        // Zero itself, with a fraction or exponent, stays a number.
        #expect(try Self.parse(#"{"inputs": [[0, -0.5, 0e3]]}"#).values == [0, -0.5, 0])
    }

    /// A token that is not JSON where a number or row belongs is reported at its own byte in
    /// the body, not at "character 0" of the token the general parser was handed.
    @Test(arguments: [
        (#"{"inputs": [[1, .5, 3]]}"#, "the value \".5\" is not valid JSON at byte 16"),
        (#"{"inputs": [[1, NaN, 3]]}"#, "the value \"NaN\" is not valid JSON at byte 16"),
        (#"{"inputs": [[1, 2, 3], Infinity]}"#, "the value \"Infinity\" is not valid JSON at byte 23"),
        (#"{"format": +1, "inputs": [[1, 2, 3]]}"#, "the value \"+1\" is not valid JSON at byte 11"),
    ])
    func tokensThatAreNotJSONAreReportedAtTheirByte(body: String, message: String) throws {
        do {
            _ = try Self.parse(body)
            Issue.record("accepted \(body)")
        } catch let error as ServiceError {
            #expect(error.code == "malformed_json")
            #expect(error.message == "the request body is not valid JSON: " + message)
        }
    }

    /// Numbers of any length are JSON: a 400-digit fraction, integer or exponent reads as
    /// strtof reads it, where numbers over 63 characters used to be refused as not JSON.
    @Test func longNumbersReadAsStrtofReadsThem() throws {
        let texts = ["0." + String(repeating: "1", count: 400),
                     String(repeating: "9", count: 30) + "e-30",
                     "1e" + String(repeating: "0", count: 300) + "1",
                     "-" + String(repeating: "0", count: 1) + "." + String(repeating: "0", count: 200) + "7e205",
                     "3.40282346638528859811704183484516925440" + String(repeating: "0", count: 60) + "e38"]
        let body = #"{"inputs": [["# + texts.joined(separator: ",") + "]]}"
        let parsed = try Self.parse(body, width: texts.count)
        for (index, text) in texts.enumerated() {
            #expect(parsed.values[index].bitPattern == strtof(text, nil).bitPattern, "\(text.prefix(20))")
        }
        #expect(parsed.values[1] == 1 && parsed.values[2] == 10)
        #expect(parsed.values[3] == -70_000 && parsed.values[4] == Float.greatestFiniteMagnitude)
    }

    @Test func rowsAreWrittenAsValidJSONThatReadsBackExactly() throws {
        let values: [Float] = [0, 1, -0.1, 1e-5, 3.4028235e38, Float(bitPattern: 1), 0.33333334]
        var out: [UInt8] = []
        try MatrixJSON.appendRows(values, width: 7, to: &out, what: "codes")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [[Double]])
        #expect(parsed[0].map { Float($0) } == values)
        #expect(throws: ServiceError.nonFiniteOutput(what: "codes", row: 1)) {
            var sink: [UInt8] = []
            try MatrixJSON.appendRows([1, 2, .infinity, 4], width: 2, to: &sink, what: "codes")
        }
    }
}
