import Foundation
import SAECore
import Testing

/// The eight-lane exp, sigmoid and log1p against `Double` libm over dense grids.
///
/// Tolerances, relative to the `Double` value: exp and sigmoid 3e-7 (about 2.5 ulp),
/// log1p 2.5e-7.
struct SIMDMathTests {
    /// Runs `function` over `inputs` eight at a time and returns the worst relative error.
    func worstRelativeError(
        _ inputs: [Float],
        _ function: (Lanes) -> Lanes,
        _ reference: (Double) -> Double
    ) -> (error: Double, at: Float) {
        var worst = (error: 0.0, at: Float(0))
        for start in stride(from: 0, to: inputs.count, by: 8) {
            let count = min(8, inputs.count - start)
            let chunk = Array(inputs[start..<start + count])
            let results = chunk.withUnsafeBufferPointer {
                function(.load($0.baseAddress!, count: count))
            }
            for lane in 0..<count {
                let expected = reference(Double(chunk[lane]))
                let error = abs(Double(results[lane]) - expected) / abs(expected)
                if error > worst.error { worst = (error, chunk[lane]) }
            }
        }
        return worst
    }

    @Test func expIsWithinThreeUlpOverItsRange() {
        let inputs = stride(from: Float(-87), through: 88, by: 0.0137).map { $0 }
        let worst = worstRelativeError(inputs, SIMDMath.exp, Foundation.exp)
        print("exp: largest relative error \(worst.error) at \(worst.at)")
        #expect(worst.error < 3e-7)
    }

    @Test func sigmoidIsWithinThreeUlp() {
        let inputs = stride(from: Float(-80), through: 80, by: 0.0031).map { $0 }
        let worst = worstRelativeError(
            inputs, { SIMDMath.sigmoid($0).sigmoid }, { 1 / (1 + Foundation.exp(-$0)) })
        print("sigmoid: largest relative error \(worst.error) at \(worst.at)")
        #expect(worst.error < 3e-7)
    }

    @Test func log1pKeepsRelativeAccuracyDownToTinyArguments() {
        var inputs = stride(from: Float(0.0001), through: 1, by: 0.0001).map { $0 }
        inputs += [1e-30, 1e-20, 1e-10, 1e-7, 3e-5]
        let worst = worstRelativeError(inputs, SIMDMath.log1pUnit, Foundation.log1p)
        print("log1p: largest relative error \(worst.error) at \(worst.at)")
        #expect(worst.error < 2.5e-7)
    }

    @Test func nanStaysNaNAndExtremesStayFinite() {
        let special: [Float] = [.nan, -.infinity, .infinity, -1000, 1000, 0, -0.0, 1]
        let values = special.withUnsafeBufferPointer { Lanes.load($0.baseAddress!, count: 8) }
        let e = SIMDMath.exp(values)
        #expect(e[0].isNaN)
        #expect((1..<8).allSatisfy { e[$0].isFinite && e[$0] > 0 })
        let s = SIMDMath.sigmoid(values).sigmoid
        #expect(s[0].isNaN && s[1] < 1e-37 && s[2] == 1 && s[5] == 0.5 && s[6] == 0.5)
    }

    @Test func partialLoadsPadWithZeroAndStoresTouchOnlyTheirLanes() {
        let source: [Float] = [1, 2, 3]
        let lanes = source.withUnsafeBufferPointer { Lanes.load($0.baseAddress!, count: 3) }
        #expect(lanes == Lanes(1, 2, 3, 0, 0, 0, 0, 0))
        var target = [Float](repeating: -1, count: 5)
        target.withUnsafeMutableBufferPointer { lanes.store(to: $0.baseAddress!, count: 3) }
        #expect(target == [1, 2, 3, -1, -1])
        #expect(lanes.sum(ofFirst: 2) == 3)
    }
}
