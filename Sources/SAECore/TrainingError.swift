/// Why training could not start or could not go on.
package enum TrainingError: Error, Sendable, Equatable {
    /// An option (or a model setting) is out of range or contradicts another.
    /// `field` is the option's path in ``TrainingOptions`` (`"sparsity.k"`) or `"model.…"`.
    case invalidOption(field: String, message: String)
    /// A dataset's rows are not as wide as the model's input.
    /// `dataset` is `"training"` or `"validation"`.
    case widthMismatch(dataset: String, expected: Int, actual: Int)
    /// The loss became NaN or infinite at 1-based optimiser step `step` of 1-based `epoch`;
    /// `what` names the value (`"loss"`). The parameters are as they were before that step.
    case nonFinite(epoch: Int, step: Int, what: String)

    /// A stable snake_case identifier with no dynamic values, for clients and metrics.
    package var code: String {
        switch self {
        case .invalidOption: "invalid_option"
        case .widthMismatch: "width_mismatch"
        case .nonFinite: "non_finite"
        }
    }

    /// A human-readable sentence including the offending values.
    package var message: String {
        switch self {
        case .invalidOption(let field, let message):
            "\(field): \(message)"
        case .widthMismatch(let dataset, let expected, let actual):
            "the \(dataset) set has rows of \(actual) values but the model takes \(expected)"
        case .nonFinite(let epoch, let step, let what):
            "the \(what) became non-finite at step \(step) (epoch \(epoch)); "
                + "try a lower learning rate"
        }
    }
}

extension TrainingError: CustomStringConvertible {
    package var description: String { message }
}
