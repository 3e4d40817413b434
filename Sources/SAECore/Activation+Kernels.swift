// Element-wise kernels for `Activation`, written over raw pointers so the training loop can run
// them on preallocated buffers without bounds checks or allocation. They work eight lanes at a
// time (see SIMDMath.swift); a short final chunk is padded, never read or written past `count`.

extension Activation {
    /// Applies the activation in place to `count` floats at `values`.
    ///
    /// ReLU maps NaN to NaN (so non-finite values reach the loss check). Sigmoid is
    /// `SIMDMath.sigmoid`, which cannot overflow and is within a few ulp of `1 / (1 + e^−z)`.
    @inline(__always)
    package func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        if self == .identity { return }
        for i in stride(from: 0, to: count, by: Lanes.scalarCount) {
            let lanes = min(Lanes.scalarCount, count - i)
            apply(.load(values + i, count: lanes)).store(to: values + i, count: lanes)
        }
    }

    /// The activation of eight values, as ``apply(_:count:)`` computes it.
    @inline(__always)
    func apply(_ z: Lanes) -> Lanes {
        switch self {
        case .relu: z.replacing(with: 0, where: z .< 0)
        case .sigmoid: SIMDMath.sigmoid(z).sigmoid
        case .identity: z
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
        if self == .identity { return }
        for i in stride(from: 0, to: count, by: Lanes.scalarCount) {
            let lanes = min(Lanes.scalarCount, count - i)
            let g = Lanes.load(gradient + i, count: lanes)
            backpropagate(g, output: .load(output + i, count: lanes))
                .store(to: gradient + i, count: lanes)
        }
    }

    /// Eight gradients times the activation's derivative at outputs `y`, as
    /// ``backpropagate(_:output:count:)`` computes them.
    @inline(__always)
    func backpropagate(_ g: Lanes, output y: Lanes) -> Lanes {
        switch self {
        case .relu: g.replacing(with: 0, where: .!(y .> 0))
        case .sigmoid: g * (y * (1 - y))
        case .identity: g
        }
    }

    /// The activation's derivative at the point whose output is `y`: ReLU's is 1 for `y > 0`
    /// and 0 otherwise, sigmoid's `y(1 − y)`, identity's 1.
    @inline(__always)
    func slope(atOutput y: Float) -> Float {
        switch self {
        case .relu: y > 0 ? 1 : 0
        case .sigmoid: y * (1 - y)
        case .identity: 1
        }
    }
}
