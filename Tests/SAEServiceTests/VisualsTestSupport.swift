import CZlib
import Foundation
import HTTPServer
import SAECore
@testable import SAEService

/// A PNG reader for tests, independent of `PNGEncoder`: walks the chunks, checks every CRC
/// with zlib's `crc32`, inflates IDAT with zlib's `uncompress` and undoes the scanline filters
/// (only type 0 is expected from saed; anything else is reported).
struct DecodedPNG {
    var width: Int
    var height: Int
    var bitDepth: Int
    var colorType: Int
    var chunkTypes: [String]
    /// RGB bytes, row-major.
    var pixels: [UInt8]

    func rgb(_ x: Int, _ y: Int) -> [UInt8] {
        let offset = 3 * (y * width + x)
        return Array(pixels[offset..<offset + 3])
    }

    static func decode(_ bytes: [UInt8]) throws -> DecodedPNG {
        let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        guard bytes.count > 8, Array(bytes[0..<8]) == signature else { throw TestClientError("bad PNG signature") }
        var offset = 8
        var types: [String] = []
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while offset + 12 <= bytes.count {
            let length = Int(readUInt32(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw TestClientError("chunk runs past the file") }
            let typeAndData = Array(bytes[offset + 4..<offset + 8 + length])
            let type = String(decoding: typeAndData[0..<4], as: UTF8.self)
            let stored = readUInt32(bytes, offset + 8 + length)
            let computed = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            guard UInt32(computed) == stored else { throw TestClientError("CRC mismatch in \(type)") }
            types.append(type)
            let data = Array(typeAndData[4...])
            if type == "IHDR" { header = data }
            if type == "IDAT" { compressed += data }
            offset += 12 + length
        }
        guard offset == bytes.count else { throw TestClientError("trailing bytes after the last chunk") }
        guard header.count == 13 else { throw TestClientError("IHDR has \(header.count) bytes") }
        let width = Int(readUInt32(header, 0))
        let height = Int(readUInt32(header, 4))
        let raw = try inflate(compressed, expected: height * (1 + 3 * width))
        var pixels: [UInt8] = []
        for row in 0..<height {
            let start = row * (1 + 3 * width)
            guard raw[start] == 0 else { throw TestClientError("row \(row) uses filter \(raw[start])") }
            pixels += raw[start + 1..<start + 1 + 3 * width]
        }
        return DecodedPNG(width: width, height: height, bitDepth: Int(header[8]), colorType: Int(header[9]),
                          chunkTypes: types, pixels: pixels)
    }

    private static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func inflate(_ data: [UInt8], expected: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expected)
        var length = uLongf(expected)
        let status = output.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { uncompress(out.baseAddress, &length, $0.baseAddress, uLong($0.count)) }
        }
        guard status == Z_OK, Int(length) == expected else {
            throw TestClientError("inflate gave status \(status), \(length) of \(expected) bytes")
        }
        return output
    }
}

/// A service whose routes are called in-process, without sockets, over a temporary data
/// directory with a datasets folder.
struct VisualsFixture {
    let directory: String
    let service: Service
    let router: Router

    init(fashionMNIST: String = EndToEndTests.fashionDirectory) throws {
        directory = NSTemporaryDirectory() + "saed-visuals-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/datasets", withIntermediateDirectories: true)
        var config = EndToEndTests.makeConfig(dataDirectory: directory)
        config.fashionMNISTDirectory = fashionMNIST
        service = try Service(config: config, logger: .none)
        router = Router()
        Routes(service: service).register(on: router)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Answers `GET target` through the router, as the server would.
    func get(_ target: String) throws -> HTTPResponse {
        var request = HTTPRequest(method: "GET", target: target)
        guard case .matched(let handler, let parameters) = router.match(method: "GET", path: request.path) else {
            throw TestClientError("no GET route for \(request.path)")
        }
        request.pathParameters = parameters
        return try handler(request)
    }

    func writeDataset(_ name: String, _ csv: String) throws {
        try csv.write(toFile: directory + "/datasets/" + name, atomically: true, encoding: .utf8)
    }

    /// Saves `model` as `id`, trained (as far as its record says) on `trainingSpec`.
    func save(_ model: Autoencoder, id: String, training: String? = nil) throws {
        let info = ModelInfo(
            id: id, jobID: nil, name: "tiny", createdAt: Date(), config: model.config, normalization: .unit,
            metrics: nil, training: try training.map { try JSONValue.parse(Array($0.utf8)) })
        try service.models.save(model, info: info)
    }
}

extension HTTPResponse {
    var bytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The `error` object of a JSON error body.
    func errorObject() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        guard let error = object?["error"] as? [String: Any] else { throw TestClientError("no error in \(text)") }
        return error
    }
}

/// The 4 × 4-input, 3-latent model whose pictures the tests predict pixel by pixel.
///
/// Encoder: latent j copies input j (j = 0, 1, 2), no bias, ReLU. Decoder rows: latent 0 the
/// ramp 0…15, latent 1 the constant 0.5, latent 2 the ramp 15…0; zero bias, identity output.
enum TinyModel {
    static func make(inputSize: Int = 16) -> Autoencoder {
        let hidden = 3
        var wEnc = [Float](repeating: 0, count: inputSize * hidden)
        for j in 0..<hidden { wEnc[j * hidden + j] = 1 }
        var wDec = [Float](repeating: 0.5, count: hidden * inputSize)
        for i in 0..<inputSize {
            wDec[i] = Float(i)
            wDec[2 * inputSize + i] = Float(inputSize - 1 - i)
        }
        let config = AutoencoderConfig(inputSize: inputSize, hiddenSize: hidden, activation: .relu,
                                       decoderActivation: .identity)
        return Autoencoder(config: config, wEnc: wEnc, bEnc: [0, 0, 0], wDec: wDec,
                           bDec: [Float](repeating: 0, count: inputSize))
    }

    /// Four rows: input 0 is positive in one, input 1 in three, input 2 in none, so latents
    /// fire 25 %, 75 % and 0 % of the time. Values lie in [0, 1].
    static let csv = """
        1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0.5
        0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0.25
        0,0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,1
        0,0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0

        """

    static let trainingSpec = #"{"dataset": {"path": "tiny.csv"}, "model": {"hidden_size": 3}}"#
}
