// Element-wise kernels for `Activation`, written over raw pointers so the training loop can run
// them on preallocated buffers without bounds checks or allocation. They work eight lanes at a
// time (see SIMDMath.swift); a short final chunk is padded, never read or written past `count`.

extension Activation {
    /// Applies the activation in place to `count` floats at `values`.
    ///
    /// ReLU maps NaN to NaN (so non-finite values reach the loss check). Sigmoid is
    /// `SIMDMath.sigmoid`, which cannot overflow and is within a few ulp of `1 / (1 + e^−z)`.
    package func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu: ReLUKernel.apply(values, count: count)
        case .sigmoid: SigmoidKernel.apply(values, count: count)
        case .identity: return
        }
    }

    /// The activation of eight values, as ``apply(_:count:)`` computes it.
    @inline(__always)
    func apply(_ z: Lanes) -> Lanes {
        switch self {
        case .relu: ReLUKernel.apply(z)
        case .sigmoid: SigmoidKernel.apply(z)
        case .identity: IdentityKernel.apply(z)
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
        case .relu: ReLUKernel.backpropagate(g, output: y)
        case .sigmoid: SigmoidKernel.backpropagate(g, output: y)
        case .identity: IdentityKernel.backpropagate(g, output: y)
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

/// One activation as a type, so a kernel generic over it is compiled once per activation with
/// the activation's lane operations inlined into its loop (a runtime `Activation` in a loop
/// body can leave each chunk calling out to a switch).
protocol ActivationKernel {
    /// `act(z)` for eight values.
    static func apply(_ z: Lanes) -> Lanes
    /// `g · act′` at the points whose outputs are `y`.
    static func backpropagate(_ g: Lanes, output y: Lanes) -> Lanes
}

extension ActivationKernel {
    /// Applies the activation in place to `count` floats; a short last chunk is padded.
    @inline(__always)
    static func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let full = count - count % Lanes.scalarCount
        for i in stride(from: 0, to: full, by: Lanes.scalarCount) {
            apply(.load(values + i, count: Lanes.scalarCount))
                .store(to: values + i, count: Lanes.scalarCount)
        }
        if full < count {
            apply(.load(values + full, count: count - full))
                .store(to: values + full, count: count - full)
        }
    }
}

/// `max(z, 0)`, NaN kept; the derivative is 1 where the output is positive, else 0 (as torch).
enum ReLUKernel: ActivationKernel {
    @inline(__always)
    static func apply(_ z: Lanes) -> Lanes { z.replacing(with: 0, where: z .< 0) }

    @inline(__always)
    static func backpropagate(_ g: Lanes, output y: Lanes) -> Lanes {
        g.replacing(with: 0, where: .!(y .> 0))
    }
}

/// `1 / (1 + e^−z)` by `SIMDMath.sigmoid`; the derivative is `y(1 − y)`.
enum SigmoidKernel: ActivationKernel {
    @inline(__always)
    static func apply(_ z: Lanes) -> Lanes { SIMDMath.sigmoid(z).sigmoid }

    @inline(__always)
    static func backpropagate(_ g: Lanes, output y: Lanes) -> Lanes { g * (y * (1 - y)) }
}

/// The identity; its derivative is 1.
enum IdentityKernel: ActivationKernel {
    @inline(__always)
    static func apply(_ z: Lanes) -> Lanes { z }

    @inline(__always)
    static func backpropagate(_ g: Lanes, output y: Lanes) -> Lanes { g }
}
