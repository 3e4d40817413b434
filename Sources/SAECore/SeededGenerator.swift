/// A small deterministic random number generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same stream on every platform and Swift version, which the standard
/// library's generators do not promise. Its whole state is the four words of ``State``, so a
/// checkpoint can store it and a later run can continue the stream exactly.
///
/// Not cryptographic. Period 2^256 − 1.
package struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's complete state: four 64-bit words, never all zero.
    package struct State: Codable, Sendable, Equatable {
        /// The four words, in xoshiro256**'s order.
        package var s0: UInt64
        package var s1: UInt64
        package var s2: UInt64
        package var s3: UInt64

        /// A state from four saved words; they must not all be zero.
        package init(s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64) {
            self.s0 = s0
            self.s1 = s1
            self.s2 = s2
            self.s3 = s3
        }
    }

    /// The current state; assigning a saved state resumes that stream.
    package var state: State {
        didSet {
            precondition(!state.isZero, "xoshiro256** cannot run from an all-zero state")
        }
    }

    /// Starts the stream for `seed`, expanding it to 256 bits with SplitMix64.
    package init(seed: UInt64) {
        var mixer = seed
        let s0 = Self.splitMix64(&mixer)
        let s1 = Self.splitMix64(&mixer)
        let s2 = Self.splitMix64(&mixer)
        let s3 = Self.splitMix64(&mixer)
        // SplitMix64 is a bijection of a counter, so four consecutive outputs are never all zero.
        self.state = State(s0: s0, s1: s1, s2: s2, s3: s3)
    }

    /// Resumes a stream from a state saved earlier through ``state``.
    package init(state: State) {
        precondition(!state.isZero, "xoshiro256** cannot run from an all-zero state")
        self.state = state
    }

    /// Returns the next 64 random bits (xoshiro256**).
    package mutating func next() -> UInt64 {
        var s = state
        let result = rotateLeft(s.s1 &* 5, by: 7) &* 9
        let t = s.s1 << 17
        s.s2 ^= s.s0
        s.s3 ^= s.s1
        s.s1 ^= s.s2
        s.s0 ^= s.s3
        s.s2 ^= t
        s.s3 = rotateLeft(s.s3, by: 45)
        state = s
        return result
    }

    /// Returns a float uniformly distributed in `[0, 1)` with 24 random bits.
    package mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Returns an integer uniformly distributed in `0..<bound`, without modulo bias.
    ///
    /// Lemire's multiply-and-reject method, written out so the stream of draws is fixed by this
    /// file rather than by the standard library. `bound` must be positive.
    package mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive, not \(bound)")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            // 2^64 mod range: the count of low words that would over-represent small results.
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// One step of SplitMix64: advances `x` and returns the mixed value.
    private static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator.State {
    fileprivate var isZero: Bool { s0 | s1 | s2 | s3 == 0 }
}

@inline(__always)
private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
}
