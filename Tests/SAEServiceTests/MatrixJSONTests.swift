import Foundation
import Testing
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

    @Test(arguments: [
        (#"{"inputs": [[1, 2, 3], [1, 2]]}"#, "inputs[1]", "expected 3 values, got 2"),
        (#"{"inputs": [[1, 2, 3, 4]]}"#, "inputs[0]", "expected 3 values, got 4"),
        (#"{"inputs": [[1, "2", 3]]}"#, "inputs[0][1]", "must be a number, got a string"),
        (#"{"inputs": [[1, null, 3]]}"#, "inputs[0][1]", "must be a number, got null"),
        (#"{"inputs": [[1, 2, 1e39]]}"#, "inputs[0][2]", "must be finite"),
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
