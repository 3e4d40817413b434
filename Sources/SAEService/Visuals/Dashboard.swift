/// The dashboard `GET /` serves: one HTML page with its style and script inline, so it works
/// offline and needs nothing but the daemon.
///
/// The page is a small single-page app routed by the URL fragment:
/// - `#/`: the job list (states, progress, latest loss), the saved models, and a form that
///   submits an example job (`GET /v1/examples`) or pasted JSON to `POST /v1/jobs`.
/// - `#/jobs/ID`: the job's progress and a loss chart that grows with each `epoch` event of
///   `GET /v1/jobs/ID/events` (read through `fetch`, so it can carry the token), plus the epoch
///   table.
/// - `#/models/ID`: metrics, the feature grid, reconstructions, and an encode playground that
///   loads a test image (`GET /v1/datasets/fashion-mnist/test/rows/N`), encodes and
///   reconstructs it and draws its code as a bar chart.
///
/// When the daemon requires a bearer token, the page says so (`<meta name="saed-auth"
/// content="bearer">`, never the token itself); the script then asks for the token in the
/// `token-box` form, keeps it in the tab's sessionStorage and sends it on every request.
///
/// Element ids the browser test and the route test rely on: `view`, `jobs-table`,
/// `models-table`, `job-form`, `example-select`, `job-json`, `submit-job`, `loss-chart`,
/// `features-img`, `reconstructions-img`, `playground`, `code-chart`, `token-box`,
/// `token-input`, `token-submit`.
enum Dashboard {
    /// The complete page for a daemon with no token configured.
    static let html = page(authMeta: authMeta("none"))
    /// The complete page for a daemon that requires a bearer token.
    static let htmlRequiringToken = page(authMeta: authMeta("bearer"))

    private static func authMeta(_ scheme: String) -> String {
        "<meta name=\"saed-auth\" content=\"\(scheme)\">\n"
    }

    private static func page(authMeta: String) -> String {
        head + authMeta + "<style>\n" + style + "</style>\n</head>\n" + body
            + "<script>\n" + script + "</script>\n</body>\n</html>\n"
    }

    private static let head = #"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>saed</title>
        <link rel="icon" href="data:,">

        """#

    private static let body = #"""
        <body>
        <header class="top">
          <a class="brand" href="#/">saed</a>
          <span class="tagline">sparse autoencoders, trained on this machine</span>
          <nav><a href="#/">Jobs &amp; models</a><a href="#/new">New job</a></nav>
        </header>
        <section id="token-box" class="card token-box" hidden>
          <form id="token-form">
            <label for="token-input">This saed requires an access token. It is kept in this tab only.</label>
            <div class="row">
              <input id="token-input" type="password" autocomplete="off" spellcheck="false">
              <button class="primary" id="token-submit" type="submit">Use token</button>
            </div>
            <div id="token-refused" class="error" hidden>That token was refused; enter it again.</div>
          </form>
        </section>
        <main id="view" aria-live="polite"><p class="muted">Loading…</p></main>

        """#
}
