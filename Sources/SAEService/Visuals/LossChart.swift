import Foundation
import SAECore

/// A job's learning curves as a standalone SVG document.
///
/// Two panels share the epoch axis: the upper one plots the training loss, its reconstruction
/// and sparsity terms and the validation reconstruction (MSE); the lower one plots L0 on the
/// training and validation sets. Each curve present in the history is one
/// `<path class="curve" data-series="…">` with a dot per epoch; curves without values (no
/// validation set) are left out of the plot and the legend. The epoch axis runs from 1 to the
/// planned epoch count, so a running job's curves grow towards the right edge.
struct LossChart: Sendable {
    /// One plotted quantity.
    struct Series: Sendable {
        /// The epoch record's JSON field name, used as `data-series`.
        let key: String
        let label: String
        let color: String
        let isDashed: Bool
        /// 0 for the loss panel, 1 for the L0 panel.
        let panel: Int
        let value: @Sendable (EpochRecord) -> Double?
    }

    static let series: [Series] = [
        Series(key: "loss", label: "training loss", color: "#2563eb", isDashed: false, panel: 0) { $0.loss },
        Series(key: "reconstruction", label: "reconstruction", color: "#16a34a", isDashed: false, panel: 0) {
            $0.reconstruction
        },
        Series(key: "sparsity", label: "sparsity (β·Ls)", color: "#d97706", isDashed: false, panel: 0) {
            $0.sparsity
        },
        Series(key: "validation_reconstruction", label: "validation MSE", color: "#9333ea", isDashed: true,
               panel: 0) { $0.validationReconstruction },
        Series(key: "l0", label: "L0 training", color: "#0891b2", isDashed: false, panel: 1) { $0.l0 },
        Series(key: "validation_l0", label: "L0 validation", color: "#0891b2", isDashed: true, panel: 1) {
            $0.validationL0
        },
    ]

    /// Shown above the plot, for example the job's name and id.
    var title: String
    /// Finished epochs, in order.
    var history: [EpochRecord]
    /// The epochs the job will run; the x axis reaches at least this far.
    var plannedEpochs: Int

    // Geometry in SVG user units.
    private static let width = 760.0
    private static let height = 470.0
    private static let plotLeft = 72.0
    private static let plotRight = 548.0
    private static let panels: [(top: Double, bottom: Double, title: String)] = [
        (44, 262, "loss"), (298, 408, "L0 (active latents)"),
    ]

    /// The series with at least one finite value in the history, in legend order.
    var plottedSeries: [Series] {
        Self.series.filter { series in history.contains { series.value($0)?.isFinite == true } }
    }

    /// The whole SVG document, UTF-8 text starting with the XML declaration.
    func svg() -> String {
        let lastEpoch = Double(max(plannedEpochs, history.last?.epoch ?? 0, 1))
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" \
            viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="system-ui, sans-serif" font-size="11">
            <title>\(Self.escaped(title))</title>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(Self.plotLeft)" y="24" font-size="14" font-weight="600" fill="#111827">\
            \(Self.escaped(title))</text>

            """
        let plotted = plottedSeries
        for (index, panel) in Self.panels.enumerated() {
            let members = plotted.filter { $0.panel == index }
            let top = members.flatMap { series in history.compactMap(series.value) }.filter(\.isFinite).max() ?? 0
            let axis = NiceAxis(maximum: top)
            out += frame(panel: panel, axis: axis, lastEpoch: lastEpoch, isBottom: index == Self.panels.count - 1)
            for series in members {
                out += curve(series, panel: panel, axis: axis, lastEpoch: lastEpoch)
            }
        }
        if history.isEmpty {
            out += """
                <text x="\(Self.format((Self.plotLeft + Self.plotRight) / 2))" y="150" text-anchor="middle" \
                fill="#6b7280" font-size="13">waiting for the first epoch</text>

                """
        }
        out += legend(plotted)
        out += "</svg>\n"
        return out
    }

    // MARK: - Parts

    /// Axes, grid lines, tick labels and axis titles of one panel.
    private func frame(
        panel: (top: Double, bottom: Double, title: String), axis: NiceAxis, lastEpoch: Double, isBottom: Bool
    ) -> String {
        var out = "<g class=\"axes\">\n"
        for tick in axis.ticks {
            let y = Self.y(tick, axis: axis, panel: panel)
            out += "<line x1=\"\(Self.plotLeft)\" y1=\"\(Self.format(y))\" x2=\"\(Self.plotRight)\" "
                + "y2=\"\(Self.format(y))\" stroke=\"#e5e7eb\"/>\n"
            out += "<text x=\"\(Self.plotLeft - 6)\" y=\"\(Self.format(y + 4))\" text-anchor=\"end\" "
                + "fill=\"#4b5563\">\(NiceAxis.label(tick))</text>\n"
        }
        for epoch in Self.epochTicks(lastEpoch: Int(lastEpoch)) {
            let x = Self.x(Double(epoch), lastEpoch: lastEpoch)
            out += "<line x1=\"\(Self.format(x))\" y1=\"\(panel.bottom)\" x2=\"\(Self.format(x))\" "
                + "y2=\"\(panel.bottom + 4)\" stroke=\"#6b7280\"/>\n"
            if isBottom {
                out += "<text x=\"\(Self.format(x))\" y=\"\(panel.bottom + 17)\" text-anchor=\"middle\" "
                    + "fill=\"#4b5563\">\(epoch)</text>\n"
            }
        }
        out += "<line x1=\"\(Self.plotLeft)\" y1=\"\(panel.top)\" x2=\"\(Self.plotLeft)\" y2=\"\(panel.bottom)\" "
            + "stroke=\"#6b7280\"/>\n"
        out += "<line x1=\"\(Self.plotLeft)\" y1=\"\(panel.bottom)\" x2=\"\(Self.plotRight)\" "
            + "y2=\"\(panel.bottom)\" stroke=\"#6b7280\"/>\n"
        let middle = Self.format((panel.top + panel.bottom) / 2)
        out += "<text class=\"axis-title\" transform=\"translate(18 \(middle)) rotate(-90)\" "
            + "text-anchor=\"middle\" fill=\"#111827\">\(Self.escaped(panel.title))</text>\n"
        if isBottom {
            out += "<text class=\"axis-title\" x=\"\(Self.format((Self.plotLeft + Self.plotRight) / 2))\" "
                + "y=\"\(panel.bottom + 40)\" text-anchor=\"middle\" fill=\"#111827\">epoch</text>\n"
        }
        return out + "</g>\n"
    }

    /// One series as a path plus a dot per epoch; non-finite values break the line.
    private func curve(
        _ series: Series, panel: (top: Double, bottom: Double, title: String), axis: NiceAxis, lastEpoch: Double
    ) -> String {
        var d = ""
        var dots = ""
        var isDrawing = false
        for record in history {
            guard let value = series.value(record), value.isFinite else {
                isDrawing = false
                continue
            }
            let x = Self.format(Self.x(Double(record.epoch), lastEpoch: lastEpoch))
            let y = Self.format(Self.y(value, axis: axis, panel: panel))
            d += (isDrawing ? " L" : (d.isEmpty ? "M" : " M")) + "\(x) \(y)"
            isDrawing = true
            dots += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"2.5\" fill=\"\(series.color)\"/>"
        }
        let dash = series.isDashed ? " stroke-dasharray=\"6 4\"" : ""
        return "<g data-series=\"\(series.key)\"><path class=\"curve\" data-series=\"\(series.key)\" d=\"\(d)\" "
            + "fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\"\(dash)/>\(dots)</g>\n"
    }

    private func legend(_ plotted: [Series]) -> String {
        var out = "<g class=\"legend\">\n"
        for (index, series) in plotted.enumerated() {
            let y = 52.0 + Double(index) * 20
            let dash = series.isDashed ? " stroke-dasharray=\"6 4\"" : ""
            out += "<line x1=\"572\" y1=\"\(y)\" x2=\"598\" y2=\"\(y)\" stroke=\"\(series.color)\" "
                + "stroke-width=\"2\"\(dash)/>\n"
            out += "<text x=\"606\" y=\"\(y + 4)\" fill=\"#111827\">\(Self.escaped(series.label))</text>\n"
        }
        return out + "</g>\n"
    }

    // MARK: - Scales

    /// Epochs 1…last spread over the plot with half an epoch of margin on each side, so the
    /// first and last dots stay off the frame.
    private static func x(_ epoch: Double, lastEpoch: Double) -> Double {
        plotLeft + (epoch - 0.5) / lastEpoch * (plotRight - plotLeft)
    }

    private static func y(_ value: Double, axis: NiceAxis, panel: (top: Double, bottom: Double, title: String))
        -> Double
    {
        panel.bottom - min(max(value / axis.maximum, 0), 1) * (panel.bottom - panel.top)
    }

    /// Epoch numbers to mark: every epoch up to 10, then 1 and the multiples of a round step,
    /// at most 11 marks.
    static func epochTicks(lastEpoch: Int) -> [Int] {
        let step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000]
            .first { lastEpoch / $0 <= 10 } ?? max(lastEpoch / 10, 1)
        return (step == 1 ? [] : [1]) + Array(stride(from: step, through: lastEpoch, by: step))
    }

    /// Two decimals are plenty for a 760-unit-wide picture.
    private static func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    /// `text` with the five XML special characters escaped.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// A value axis from 0 to a round maximum, with four or five round ticks.
struct NiceAxis: Sendable, Equatable {
    let maximum: Double
    let step: Double

    /// An axis covering 0...`maximum`; a non-positive or non-finite maximum gives 0...1.
    init(maximum: Double) {
        guard maximum > 0, maximum.isFinite else {
            (self.maximum, self.step) = (1, 0.25)
            return
        }
        let rough = maximum / 4
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        self.step = step
        // The tolerance keeps 0.03 / 0.0075 = 4.000…01 from rounding up to a fifth step.
        self.maximum = (maximum / step - 1e-9).rounded(.up) * step
    }

    var ticks: [Double] {
        let count = Int((maximum / step).rounded())
        return (0...count).map { Double($0) * step }
    }

    /// A tick value in at most four significant digits, without trailing zeros.
    static func label(_ value: Double) -> String {
        String(format: "%.4g", value)
    }
}
