// Element-wise kernels for `Activation`, written over raw pointers so the training loop can run
// them on preallocated buffers without bounds checks or allocation.

extension Activation {
    /// Applies the activation in place to `count` floats at `values`.
    ///
    /// ReLU maps NaN to NaN (so non-finite values reach the loss check). Sigmoid is
    /// `SIMDMath.sigmoid`, which cannot overflow and is within a few ulp of `1 / (1 + e^−z)`.
    @inline(__always)
    package func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count where values[i] < 0 {
                values[i] = 0
            }
        case .sigmoid:
            for i in stride(from: 0, to: count, by: Lanes.scalarCount) {
                let lanes = min(Lanes.scalarCount, count - i)
                SIMDMath.sigmoid(.load(values + i, count: lanes)).sigmoid
                    .store(to: values + i, count: lanes)
            }
        case .identity:
            break
        }
    }

    /// Multiplies `gradient` in place by the activation's derivative, read from its output.
    ///
    /// `output` holds `act(z)` for the same `count` elements. ReLU's derivative at 0 is taken as 0,
    /// as torch does; sigmoid's is `y(1 − y)`.
    @inline(__always)
    package func backpropagate(
        _ gradient: UnsafeMutablePointer<Float>,
        output: UnsafePointer<Float>,
        count: Int
    ) {
        switch self {
        case .relu:
            for i in 0..<count {
                gradient[i] = output[i] > 0 ? gradient[i] : 0
            }
        case .sigmoid:
            for i in 0..<count {
                let y = output[i]
                gradient[i] *= y * (1 - y)
            }
        case .identity:
            break
        }
    }
}
