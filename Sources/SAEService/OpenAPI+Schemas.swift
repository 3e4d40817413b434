import Foundation
import SAECore

extension OpenAPI {
    /// The component schemas: what the API's JSON bodies hold, as JSON Schema 2020-12.
    ///
    /// Response schemas list as required exactly the fields the encoder always writes;
    /// optional Swift values are left out of the body when nil unless the type says otherwise
    /// (`Job` writes nulls). Request schemas are no stricter than the parser, so a body they
    /// refuse is a body the server refuses too.
    enum Schemas {
        static var all: [String: Any] {
            [
                "Error": error, "Job": job, "JobFailure": failure, "JobPage": jobPage, "MetricsPage": metricsPage,
                "EpochRecord": epochRecord, "Model": model, "Dataset": dataset, "SparseRow": sparseRow,
                "JobSpec": jobSpec, "DatasetSource": datasetSource,
            ]
        }

        private static func nullable(_ type: String) -> [String: Any] { ["type": [type, "null"]] }
        private static var string: [String: Any] { ["type": "string"] }
        private static var number: [String: Any] { ["type": "number"] }
        private static var integer: [String: Any] { ["type": "integer"] }
        private static var dateTime: [String: Any] { ["type": "string", "format": "date-time"] }
        private static var activation: [String: Any] {
            ["type": "string", "enum": Activation.allCases.map(\.rawValue)]
        }

        private static var error: [String: Any] {
            object(["error": object(["code": string, "message": string, "field": string],
                                    required: ["code", "message"])])
        }

        private static var failure: [String: Any] { object(["code": string, "message": string]) }

        private static var job: [String: Any] {
            object([
                "id": string, "name": nullable("string"),
                "state": ["type": "string", "enum": JobState.allCases.map(\.rawValue)],
                "progress": ["type": "number", "minimum": 0, "maximum": 1],
                "epoch": integer, "epochs": integer, "created_at": dateTime,
                "started_at": ["type": ["string", "null"], "format": "date-time"],
                "finished_at": ["type": ["string", "null"], "format": "date-time"],
                "error": ["anyOf": [ref("JobFailure"), ["type": "null"]]],
                "model_id": nullable("string"),
                "latest": ["anyOf": [ref("EpochRecord"), ["type": "null"]]],
                "spec": ["type": "object"], "history": array(ref("EpochRecord")),
            ], required: ["id", "name", "state", "progress", "epoch", "epochs", "created_at", "started_at",
                          "finished_at", "error", "model_id", "latest"])
        }

        private static var jobPage: [String: Any] {
            object(["jobs": array(ref("Job")), "next_page_token": nullable("string")])
        }

        private static var metricsPage: [String: Any] {
            object(["metrics": array(ref("EpochRecord")), "next_after": nullable("integer")])
        }

        private static var epochRecord: [String: Any] {
            object([
                "epoch": integer, "loss": number, "reconstruction": number, "sparsity": number, "l0": number,
                "dead_fraction": number, "dead_count": integer, "validation_reconstruction": number,
                "validation_l0": number, "seconds": number, "samples_per_second": number, "steps": integer,
                "fvu": number, "normalized_mse": number, "auxiliary_loss": number, "weight_penalty": number,
                "learning_rate": number, "validation_loss": number, "validation_fvu": number,
                "validation_normalized_mse": number, "validation_sparsity": number,
                "validation_dead_fraction": number, "validation_dead_count": integer,
            ], required: ["epoch", "loss", "reconstruction", "sparsity", "l0", "dead_fraction", "dead_count",
                          "seconds", "samples_per_second", "steps"])
        }

        private static var model: [String: Any] {
            object([
                "id": string, "job_id": string, "name": string, "created_at": dateTime,
                "input_size": integer, "hidden_size": integer, "activation": activation,
                "decoder_activation": activation, "top_k": integer, "batch_top_k": integer,
                "threshold": number, "tied_weights": ["type": "boolean"],
                "subtract_decoder_bias": ["type": "boolean"],
                "normalization": [
                    "type": "string", "enum": NormalizationKind.allCases.map(\.rawValue),
                    "description": "unit: bytes divided by 255; none; standardize: (x - mean) / std",
                ],
                "normalization_mean": array(number), "normalization_std": array(number),
                "metrics": ref("EpochRecord"), "training": ["type": "object"],
            ], required: ["id", "created_at", "input_size", "hidden_size", "activation", "decoder_activation",
                          "tied_weights", "subtract_decoder_bias", "normalization"])
        }

        private static var dataset: [String: Any] {
            object([
                "id": string, "name": string,
                "format": ["type": "string", "enum": DatasetFormat.allCases.map(\.rawValue)],
                "compressed": ["type": "boolean"], "rows": integer, "width": integer, "bytes": integer,
                "created_at": dateTime, "path": string,
            ], required: ["id", "format", "compressed", "rows", "width", "bytes", "created_at", "path"])
        }

        /// A code row as its non-zero entries, in answers and in decode requests.
        private static var sparseRow: [String: Any] {
            var schema = object(["indices": array(["type": "integer", "minimum": 0]), "values": array(number)])
            schema["additionalProperties"] = false
            return schema
        }

        // MARK: - Requests

        /// A built-in name, or exactly one of `name` (with `split`), `path` or `id`.
        private static var datasetSource: [String: Any] {
            let builtin: [String: Any] = ["type": "string", "enum": JobSpec.builtinDatasets.keys.sorted()]
            let limit = OpenAPI.integer(1, Int(Int32.max))
            func form(_ key: String, _ schema: [String: Any], _ extra: [String: Any] = [:]) -> [String: Any] {
                let properties = extra.merging([key: schema, "limit": limit]) { a, _ in a }
                return ["type": "object", "additionalProperties": false, "required": [key], "properties": properties]
            }
            return [
                "oneOf": [
                    builtin,
                    form("name", builtin, ["split": ["type": "string", "enum": ["train", "test"]]]),
                    form("path", ["type": "string", "minLength": 1, "description": "inside the datasets directory"], [
                        "format": ["type": "string", "enum": ["idx", "npy", "csv", "f32"],
                                   "description": "by the file's extension when absent (.npy, .csv, else idx)"],
                        "header": ["type": "boolean", "description": "csv only: skip the first non-blank line"],
                        "label_column": ["type": "integer", "minimum": 0, "maximum": Int(Int32.max),
                                         "description": "csv only: the 0-based column to drop"],
                        "width": ["type": "integer", "minimum": 1, "maximum": Int(Int32.max),
                                  "description": "f32 only, and required with it: values per row"],
                    ]),
                    form("id", ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$",
                                "description": "an uploaded dataset"]),
                ],
            ]
        }

        private static var jobSpec: [String: Any] {
            let positive: [String: Any] = ["type": "number", "exclusiveMinimum": 0]
            let unit: [String: Any] = ["type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1]
            let fraction: [String: Any] = ["type": "number", "minimum": 0, "exclusiveMaximum": 1]
            return [
                "type": "object", "additionalProperties": false, "required": ["dataset"],
                "properties": [
                    "name": ["type": "string", "minLength": 1, "maxLength": 200],
                    "dataset": ref("DatasetSource"), "validation": ref("DatasetSource"),
                    "model": closed([
                        "hidden_size": OpenAPI.integer(1, 65_536), "activation": activation,
                        "decoder_activation": activation, "tied_weights": ["type": "boolean"],
                        "subtract_decoder_bias": ["type": "boolean"],
                        "normalize_decoder_rows": ["type": "boolean"],
                        "decoder_bias_init": ["type": "string", "enum": DecoderBiasInit.allCases.map(\.rawValue)],
                    ]),
                    "reconstruction": ["type": "string", "enum": ReconstructionLoss.allCases.map(\.rawValue)],
                    "sparsity": closed([
                        "kind": ["type": "string", "enum": SparsityKind.allCases.map(\.rawValue)],
                        "beta": ["type": "number", "minimum": 0], "rho": unit, "k": ["type": "integer", "minimum": 1],
                        "reduction": ["type": "string", "enum": L1Reduction.allCases.map(\.rawValue)],
                        "aux_k": ["type": "integer", "minimum": 0], "aux_coefficient": ["type": "number", "minimum": 0],
                        "dead_after_samples": OpenAPI.integer(1, Int(Int32.max)),
                        "threshold_rate": ["type": "number", "exclusiveMinimum": 0, "maximum": 1],
                    ]),
                    "optimizer": closed([
                        "kind": ["type": "string", "enum": OptimizerKind.allCases.map(\.rawValue)],
                        "learning_rate": positive, "beta1": unit, "beta2": unit, "epsilon": positive,
                        "weight_decay": ["type": "number", "minimum": 0], "momentum": fraction,
                        "dampening": fraction, "nesterov": ["type": "boolean"],
                        "warmup_steps": OpenAPI.integer(0, Int(Int32.max)),
                        "sparsity_warmup_steps": OpenAPI.integer(0, Int(Int32.max)),
                        "decay": ["type": "string", "enum": LearningRateDecay.allCases.map(\.rawValue)],
                        "decay_end_factor": ["type": "number", "minimum": 0, "maximum": 1],
                        "max_gradient_norm": positive,
                    ]),
                    "epochs": OpenAPI.integer(0, 100_000), "batch_size": OpenAPI.integer(1, 1_000_000),
                    "seed": OpenAPI.integer(0, Int(Int32.max) * 1024), "shuffle": ["type": "boolean"],
                    "l2_weights": ["type": "number", "minimum": 0],
                    "normalization": ["type": "string", "enum": NormalizationKind.allCases.map(\.rawValue)],
                    "init_from": ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$",
                                  "description": "a saved model whose weights training starts from"],
                ] as [String: Any],
            ]
        }

        /// An object with only the given, optional properties.
        private static func closed(_ properties: [String: Any]) -> [String: Any] {
            ["type": "object", "additionalProperties": false, "properties": properties]
        }
    }
}
