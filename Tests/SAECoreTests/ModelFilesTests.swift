import Foundation
import SAECore
import Testing

/// A fresh directory under the system's temporary directory.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-model-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// An autoencoder whose parameters are distinct, deterministic, non-round values.
private func makeModel(_ config: AutoencoderConfig) -> Autoencoder {
    var state: UInt32 = 12345
    func next(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state)) / Float(Int32.max) * 0.3
        }
    }
    let (inputs, latents) = (config.inputSize, config.hiddenSize)
    return Autoencoder(
        config: config, wEnc: next(inputs * latents), bEnc: next(latents),
        wDec: next(latents * inputs), bDec: next(inputs))
}

struct ModelFilesTests {
    @Test func saveThenLoadReturnsAnEqualModelAndTheSameConfigBytes() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("models/run-1")  // created by save
        let config = AutoencoderConfig(
            inputSize: 5, hiddenSize: 7, activation: .sigmoid, decoderActivation: .identity,
            topK: 3)
        let model = makeModel(config)
        let configJSON = Data("{\"lr\": 0.001, \"name\": \"é\"}\n".utf8)

        try model.save(to: directory, configJSON: configJSON)
        let (loaded, loadedJSON) = try Autoencoder.load(from: directory)

        #expect(loaded == model)
        #expect(loaded.config == config)
        #expect(loadedJSON == configJSON)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["cfg.json", "model.safetensors"])
    }

    @Test func weightsFileCarriesTheSpecTensorsAndMetadata() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = makeModel(AutoencoderConfig(inputSize: 3, hiddenSize: 2, topK: 1))
        try model.save(to: directory, configJSON: Data("{}".utf8))

        let (tensors, metadata) = try SafeTensors.read(
            contentsOf: directory.appendingPathComponent("model.safetensors"))
        #expect(tensors["W_enc"]?.shape == [3, 2])
        #expect(tensors["b_enc"]?.shape == [2])
        #expect(tensors["W_dec"]?.shape == [2, 3])
        #expect(tensors["b_dec"]?.shape == [3])
        #expect(tensors["W_dec"]?.values == model.wDec)
        #expect(
            metadata == [
                "activation": "relu", "decoder_activation": "relu", "top_k": "1",
                "tied_weights": "false", "subtract_decoder_bias": "false",
            ])
    }

    @Test func weightsWithoutMetadataLoadWithDefaultActivations() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = makeModel(AutoencoderConfig(inputSize: 4, hiddenSize: 3))
        // As another tool would write it: the four tensors, in another order, no metadata.
        try SafeTensors.write(
            [
                SafeTensors.Tensor(name: "b_dec", shape: [4], values: model.bDec),
                SafeTensors.Tensor(name: "W_dec", shape: [3, 4], values: model.wDec),
                SafeTensors.Tensor(name: "W_enc", shape: [4, 3], values: model.wEnc),
                SafeTensors.Tensor(name: "b_enc", shape: [3], values: model.bEnc),
                SafeTensors.Tensor(name: "threshold", shape: [3], values: [0, 0, 0]),
            ],
            to: directory.appendingPathComponent("model.safetensors"))
        try Data("{\"source\": \"elsewhere\"}".utf8).write(
            to: directory.appendingPathComponent("cfg.json"))

        let (loaded, _) = try Autoencoder.load(from: directory)
        #expect(loaded == model)
        #expect(loaded.config.activation == .relu)
        #expect(loaded.config.decoderActivation == .relu)
        #expect(loaded.config.topK == nil)
    }

    @Test func secondSaveReplacesTheFirst() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = makeModel(AutoencoderConfig(inputSize: 2, hiddenSize: 2))
        var second = first
        second.bDec = [9, -9]
        try first.save(to: directory, configJSON: Data("1".utf8))
        try second.save(to: directory, configJSON: Data("2".utf8))

        let (loaded, json) = try Autoencoder.load(from: directory)
        #expect(loaded == second)
        #expect(json == Data("2".utf8))
    }

    /// Writes the tensors of a 2 → 3 model with one tensor or metadata entry spoiled.
    private func writeSpoiled(
        in directory: URL, replacing name: String? = nil, with tensor: SafeTensors.Tensor? = nil,
        metadata: [String: String] = [:]
    ) throws {
        let model = makeModel(AutoencoderConfig(inputSize: 2, hiddenSize: 3))
        var tensors = [
            SafeTensors.Tensor(name: "W_enc", shape: [2, 3], values: model.wEnc),
            SafeTensors.Tensor(name: "b_enc", shape: [3], values: model.bEnc),
            SafeTensors.Tensor(name: "W_dec", shape: [3, 2], values: model.wDec),
            SafeTensors.Tensor(name: "b_dec", shape: [2], values: model.bDec),
        ]
        tensors.removeAll { $0.name == name }
        if let tensor { tensors.append(tensor) }
        try SafeTensors.write(
            tensors, metadata: metadata, to: directory.appendingPathComponent("model.safetensors"))
        try Data("{}".utf8).write(to: directory.appendingPathComponent("cfg.json"))
    }

    @Test func inconsistentWeightsAreRejectedNamingTheProblem() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String?, SafeTensors.Tensor?, [String: String], String)] = [
            (
                "b_enc", SafeTensors.Tensor(name: "b_enc", shape: [2], values: [0, 0]), [:],
                "b_enc has shape [2]; expected [3]"
            ),
            (
                "W_dec",
                SafeTensors.Tensor(
                    name: "W_dec", shape: [2, 3], values: Array(repeating: 0, count: 6)),
                [:], "W_dec has shape [2, 3]; expected [3, 2]"
            ),
            ("b_dec", nil, [:], "there is no 'b_dec' tensor"),
            (
                "W_enc",
                SafeTensors.Tensor(
                    name: "W_enc", shape: [6], values: Array(repeating: 0, count: 6)),
                [:], "W_enc has shape [6]; expected [d_in, d_sae]"
            ),
            (
                "b_enc", SafeTensors.Tensor(name: "b_enc", shape: [3], values: [0, .nan, 0]), [:],
                "b_enc element 1 is nan; expected finite"
            ),
            (
                nil, nil, ["activation": "gelu"],
                "metadata activation is 'gelu'; expected one of relu"
            ),
            (nil, nil, ["top_k": "4"], "metadata top_k is '4'; expected 1...3"),
            (nil, nil, ["batch_top_k": "0"], "metadata batch_top_k is '0'; expected 1...3"),
            (nil, nil, ["threshold": "inf"], "metadata threshold is 'inf'; expected a finite number"),
            (nil, nil, ["threshold": "x"], "metadata threshold is 'x'; expected a finite number"),
            (nil, nil, ["tied_weights": "yes"], "metadata tied_weights is 'yes'; expected true or false"),
            (
                nil, nil, ["subtract_decoder_bias": "1"],
                "metadata subtract_decoder_bias is '1'; expected true or false"
            ),
            // makeModel draws W_dec independently, so it is not W_enc transposed.
            (
                nil, nil, ["tied_weights": "true"],
                "metadata tied_weights is true but W_dec is not W_enc transposed"
            ),
        ]
        for (index, (name, tensor, metadata, reason)) in cases.enumerated() {
            try writeSpoiled(in: directory, replacing: name, with: tensor, metadata: metadata)
            let error = #expect(throws: DataError.self) { try Autoencoder.load(from: directory) }
            #expect(error?.code == "model_invalid", "case \(index)")
            #expect(error?.file == "model.safetensors")
            #expect(
                error?.message.contains(reason) == true,
                "case \(index): \(String(describing: error))")
        }
    }

    @Test func missingConfigFileIsFileNotFound() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSpoiled(in: directory)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("cfg.json"))

        let error = #expect(throws: DataError.self) { try Autoencoder.load(from: directory) }
        #expect(error == .fileNotFound(file: "cfg.json"))
    }

    @Test func noneTopKMeansNoTopK() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSpoiled(in: directory, metadata: ["top_k": "None", "activation": "Identity"])

        let (loaded, _) = try Autoencoder.load(from: directory)
        #expect(loaded.config.topK == nil)
        #expect(loaded.config.activation == .identity)
    }

    @Test func everyConfigFieldSurvivesASaveAndLoad() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // Each config sets one field away from its default; thresholds that print with many
        // digits or an exponent must come back bit for bit.
        let configs = [
            AutoencoderConfig(inputSize: 3, hiddenSize: 4, batchTopK: 2),
            AutoencoderConfig(inputSize: 3, hiddenSize: 4, batchTopK: 2, threshold: 0.1 + 0.2),
            AutoencoderConfig(inputSize: 3, hiddenSize: 4, threshold: -1.0e-7),
            AutoencoderConfig(inputSize: 3, hiddenSize: 4, threshold: Float.ulpOfOne * 3),
            AutoencoderConfig(inputSize: 3, hiddenSize: 4, hasTiedWeights: true),
            AutoencoderConfig(inputSize: 3, hiddenSize: 4, subtractsDecoderBias: true),
            AutoencoderConfig(
                inputSize: 3, hiddenSize: 4, activation: .sigmoid, decoderActivation: .identity,
                topK: 3, batchTopK: 1, threshold: 2.5, hasTiedWeights: true,
                subtractsDecoderBias: true),
        ]
        for (index, config) in configs.enumerated() {
            var model = makeModel(config)
            if config.hasTiedWeights {
                // Tied models keep W_dec = W_encᵀ (W_enc is 3 × 4, row-major).
                model.wDec = (0..<12).map { model.wEnc[($0 % 3) * 4 + $0 / 3] }
            }
            let directory = root.appendingPathComponent("m\(index)")
            try model.save(to: directory, configJSON: Data("{}".utf8))
            let (loaded, _) = try Autoencoder.load(from: directory)
            #expect(loaded.config == config, "case \(index)")
            #expect(loaded.config.threshold?.bitPattern == config.threshold?.bitPattern)
            #expect(loaded == model, "case \(index)")
        }
    }

    @Test func aFileWrittenBeforeTheNewKeysLoadsWithTheirDefaults() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The metadata an earlier saed wrote: activations and top-k only.
        try writeSpoiled(
            in: directory,
            metadata: ["activation": "sigmoid", "decoder_activation": "relu", "top_k": "2"])

        let (loaded, _) = try Autoencoder.load(from: directory)
        #expect(
            loaded.config
                == AutoencoderConfig(
                    inputSize: 2, hiddenSize: 3, activation: .sigmoid, decoderActivation: .relu,
                    topK: 2))
        #expect(loaded.config.batchTopK == nil && loaded.config.threshold == nil)
        #expect(!loaded.config.hasTiedWeights && !loaded.config.subtractsDecoderBias)
    }

    /// The normalisation travels in the weights file's metadata: the file alone gives back the
    /// same statistics bit for bit (including awkward decimals and a subnormal), and a file
    /// saved without one records none.
    @Test func normalizationSurvivesInTheWeightsFileAlone() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let model = makeModel(AutoencoderConfig(inputSize: 3, hiddenSize: 2))
        let cases: [Normalization?] = [
            Normalization(kind: .standardize, mean: [0.1 + 0.2, -3.25e38, 0],
                          standardDeviation: [Float.leastNonzeroMagnitude, 1.0 / 3.0, 255]),
            .unit, Normalization.none, nil,
        ]
        for (index, normalization) in cases.enumerated() {
            let directory = root.appendingPathComponent("n\(index)")
            try model.save(to: directory, configJSON: Data("{}".utf8), normalization: normalization)
            let saved = try Autoencoder.savedNormalization(from: directory)
            #expect(saved == normalization, "case \(index)")
            #expect(saved?.mean.map(\.bitPattern) == normalization?.mean.map(\.bitPattern))
            #expect(saved?.standardDeviation.map(\.bitPattern) == normalization?.standardDeviation.map(\.bitPattern))
            #expect(try Autoencoder.load(from: directory).model == model)
        }
    }

    @Test func spoiledNormalizationMetadataIsRejectedNamingTheKey() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let standardize = ["normalization": "standardize"]
        let cases: [([String: String], String)] = [
            (["normalization": "zscore"], "metadata normalization is 'zscore'"),
            // writeSpoiled's model takes 2 inputs.
            (standardize.merging(["normalization_mean": "0,0,0", "normalization_std": "1,1"]) { a, _ in a },
             "metadata normalization_mean holds 3 values; standardize needs 2"),
            (standardize.merging(["normalization_mean": "0,0", "normalization_std": "1,0"]) { a, _ in a },
             "metadata normalization_std value 1 is '0'; expected a finite number above 0"),
            (standardize.merging(["normalization_mean": "0,nan", "normalization_std": "1,1"]) { a, _ in a },
             "metadata normalization_mean value 1 is 'nan'"),
            (["normalization": "unit", "normalization_std": "1,1"], "normalization_std is set but normalization is unit"),
            (["normalization_mean": "1,1"], "normalization_mean is set but normalization is not"),
        ]
        for (index, (metadata, reason)) in cases.enumerated() {
            try writeSpoiled(in: directory, metadata: metadata)
            let error = #expect(throws: DataError.self) { try Autoencoder.savedNormalization(from: directory) }
            #expect(error?.code == "model_invalid", "case \(index)")
            #expect(error?.message.contains(reason) == true, "case \(index): \(String(describing: error))")
        }
    }
}
