extension Dashboard {
    /// The page's CSS: system fonts, light cards on a grey ground, no external resources.
    static let style = #"""
        :root {
          --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --ground: #f3f4f6; --card: #ffffff;
          --accent: #2563eb; --good: #15803d; --bad: #b91c1c; --warn: #b45309;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
          font-size: 14px; color: var(--ink); background: var(--ground);
        }
        * { box-sizing: border-box; }
        body { margin: 0; }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        code, .mono, textarea { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
        .top {
          display: flex; align-items: baseline; gap: 16px; padding: 12px 28px;
          background: #111827; color: #f9fafb;
        }
        .top .brand { color: #fff; font-weight: 700; font-size: 18px; letter-spacing: 0.5px; }
        .top .tagline { color: #9ca3af; font-size: 13px; }
        .top nav { margin-left: auto; display: flex; gap: 18px; }
        .top nav a { color: #d1d5db; }
        main { max-width: 1240px; margin: 0 auto; padding: 20px 28px 48px; }
        h1 { font-size: 20px; margin: 4px 0 2px; }
        h2 { font-size: 15px; margin: 0 0 12px; }
        .muted { color: var(--muted); }
        .small { font-size: 12px; }
        .card {
          background: var(--card); border: 1px solid var(--line); border-radius: 10px;
          padding: 16px 18px; margin-bottom: 18px; box-shadow: 0 1px 2px rgba(0, 0, 0, 0.04);
        }
        .grid-home { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 18px; align-items: start; }
        .grid-two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 18px; }
        @media (max-width: 980px) { .grid-home, .grid-two { grid-template-columns: minmax(0, 1fr); } }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { font-size: 12px; font-weight: 600; color: var(--muted); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:hover { background: #f9fafb; }
        .empty { color: var(--muted); padding: 14px 8px; }
        .badge {
          display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
          background: #e5e7eb; color: #374151;
        }
        .badge.running { background: #dbeafe; color: #1d4ed8; }
        .badge.succeeded { background: #dcfce7; color: var(--good); }
        .badge.failed { background: #fee2e2; color: var(--bad); }
        .badge.cancelling { background: #fef3c7; color: var(--warn); }
        .bar { height: 8px; background: #e5e7eb; border-radius: 999px; overflow: hidden; min-width: 90px; }
        .bar > span { display: block; height: 100%; background: var(--accent); transition: width 0.25s; }
        .bar.big { height: 10px; margin: 10px 0 4px; }
        label { display: block; font-weight: 600; font-size: 12px; color: #374151; margin: 10px 0 4px; }
        select, input, textarea, button { font: inherit; }
        #example-select { width: 100%; }
        .token-box { max-width: 560px; margin: 18px auto; border-color: var(--accent); }
        .token-box .row { gap: 8px; }
        #token-input { flex: 1; padding: 5px 8px; border: 1px solid #d1d5db; border-radius: 6px; }
        select, input[type=number] {
          padding: 5px 8px; border: 1px solid #d1d5db; border-radius: 6px; background: #fff;
        }
        textarea {
          width: 100%; height: 300px; padding: 8px; border: 1px solid #d1d5db; border-radius: 6px;
          font-size: 12px; line-height: 1.45; resize: vertical;
        }
        button {
          padding: 6px 14px; border-radius: 6px; border: 1px solid #d1d5db; background: #fff; cursor: pointer;
        }
        button:hover { background: #f9fafb; }
        button.primary { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
        button.primary:hover { background: #1d4ed8; }
        button.danger { color: var(--bad); }
        button:disabled { opacity: 0.55; cursor: default; }
        .row { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
        .spacer { flex: 1; }
        .error {
          background: #fef2f2; color: var(--bad); border: 1px solid #fecaca; border-radius: 6px;
          padding: 8px 10px; margin-top: 10px; white-space: pre-wrap;
        }
        .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 10px; }
        .stat { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; background: #fafafa; }
        .stat .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .stat .name { font-size: 12px; color: var(--muted); }
        .chart svg { width: 100%; height: auto; display: block; }
        .picture { overflow-x: auto; }
        .picture img { display: block; max-width: 100%; image-rendering: pixelated; border-radius: 4px; }
        .placeholder { color: var(--muted); padding: 20px 0; }
        .pixels { image-rendering: pixelated; width: 168px; height: 168px; border-radius: 4px; background: #000; }
        .figure {
          display: inline-block; text-align: center; font-size: 12px; color: var(--muted); margin-right: 14px;
        }
        .top-latents { font-size: 12px; margin-top: 6px; }
        .top-latents span { display: inline-block; margin: 2px 10px 2px 0; font-variant-numeric: tabular-nums; }
        .legend-dead {
          display: inline-block; width: 10px; height: 10px; border: 2px solid #dc2626; vertical-align: -1px;
        }

        """#
}
