extension Dashboard {
    /// The page's script: the helpers, the fragment router and the home view, then the job
    /// page and the model page (in their own files), then the first route.
    ///
    /// Plain ES2020, no libraries. Every request goes through `api`, which turns the service's
    /// JSON error bodies into thrown `Error`s whose message the views show in place; nothing
    /// is left to reject unhandled, so a healthy page logs nothing to the console.
    static let script = coreScript + jobScript + modelScript + "route();\n"

    /// Helpers, the router and the home view: job list, model list, new-job form.
    private static let coreScript = #"""
        "use strict";
        const view = document.getElementById("view");
        const byId = (id) => document.getElementById(id);
        let leaveView = null;

        // ---- helpers -------------------------------------------------------------------
        function esc(text) {
          const map = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
          return String(text ?? "").replace(/[&<>"']/g, (c) => map[c]);
        }

        // ---- access token --------------------------------------------------------------
        // When saed requires a bearer token, the page (which holds no secret) says so in its
        // saed-auth meta tag; the token is asked for once, kept in this tab's sessionStorage
        // and sent with every request. Asked for before the first request, so a healthy page
        // never draws a 401; asked for again if it is refused.
        const TOKEN_KEY = "saed.token";
        const needsToken = document.querySelector('meta[name="saed-auth"]')?.content === "bearer";
        let tokenRequest = null;

        function askForToken(wasRefused) {
          if (tokenRequest) return tokenRequest;
          tokenRequest = new Promise((resolve) => {
            const input = byId("token-input");
            byId("token-refused").hidden = !wasRefused;
            byId("token-box").hidden = false;
            input.value = "";
            input.focus();
            byId("token-form").onsubmit = (event) => {
              event.preventDefault();
              const token = input.value.trim();
              if (!token) return;
              sessionStorage.setItem(TOKEN_KEY, token);
              byId("token-box").hidden = true;
              tokenRequest = null;
              resolve(token);
            };
          });
          return tokenRequest;
        }

        // fetch, with the token when one is needed or kept.
        async function authorizedFetch(url, options = {}) {
          let wasRefused = false;
          for (;;) {
            let token = sessionStorage.getItem(TOKEN_KEY);
            if (!token && (needsToken || wasRefused)) token = await askForToken(wasRefused);
            const headers = new Headers(options.headers || {});
            if (token) headers.set("Authorization", "Bearer " + token);
            const response = await fetch(url, { ...options, headers });
            if (response.status !== 401) return response;
            sessionStorage.removeItem(TOKEN_KEY);
            wasRefused = true;
          }
        }

        // Follows a server-sent event stream through fetch, which (unlike EventSource) can send
        // the token. Calls onEvent(type, data) per event; after a dropped connection it
        // reconnects from the last event id, until close() or the stream's "end" event.
        function followEvents(url, onEvent) {
          const controller = new AbortController();
          let lastID = null;
          let isDone = false;

          function dispatch(block) {
            let type = "message", id = null;
            const data = [];
            for (const line of block.split(/\r?\n/)) {
              if (!line || line.startsWith(":")) continue;  // heartbeat comments
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "event") type = value;
              else if (field === "data") data.push(value);
              else if (field === "id") id = value;
            }
            if (id !== null) lastID = id;
            if (!data.length) return;
            if (type === "end") isDone = true;
            onEvent(type, data.join("\n"));
          }

          async function connect() {
            while (!isDone) {
              try {
                const headers = lastID === null ? {} : { "Last-Event-ID": lastID };
                const response = await authorizedFetch(url, { headers, signal: controller.signal });
                if (!response.ok) throw new Error("HTTP " + response.status);
                const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
                let buffer = "";
                for (;;) {
                  const { value, done } = await reader.read();
                  if (done) break;
                  buffer += value;
                  let match;
                  while ((match = /\r?\n\r?\n/.exec(buffer))) {
                    dispatch(buffer.slice(0, match.index));
                    buffer = buffer.slice(match.index + match[0].length);
                  }
                  if (isDone) { reader.cancel().catch(() => {}); return; }
                }
              } catch (_) {
                if (controller.signal.aborted) return;
              }
              if (!isDone) await new Promise((resolve) => setTimeout(resolve, 1000));
            }
          }
          connect();
          return {
            close() {
              const wasDone = isDone;
              isDone = true;
              if (!wasDone) controller.abort();
            },
          };
        }

        async function api(path, options) {
          const response = await authorizedFetch(path, options);
          const text = await response.text();
          let body = null;
          try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
          if (!response.ok) {
            const detail = body && body.error ? body.error : { message: text || response.statusText };
            const error = new Error(detail.message || ("HTTP " + response.status));
            error.code = detail.code;
            error.field = detail.field;
            throw error;
          }
          return body;
        }

        // Fetches a picture and shows it in `img`; resolves to the response headers.
        async function loadPicture(img, url) {
          const response = await authorizedFetch(url);
          if (!response.ok) {
            let message = "HTTP " + response.status;
            try { message = (await response.json()).error.message; } catch (_) { /* keep status */ }
            throw new Error(message);
          }
          const blob = await response.blob();
          if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
          img.dataset.url = URL.createObjectURL(blob);
          img.src = img.dataset.url;
          return response.headers;
        }

        function num(value, digits = 4) {
          if (value === null || value === undefined || !Number.isFinite(value)) return "–";
          if (value === 0) return "0";
          const size = Math.abs(value);
          if (size >= 1e5 || size < 1e-3) return value.toExponential(2);
          return String(Number(value.toPrecision(digits)));
        }

        function ago(iso) {
          if (!iso) return "–";
          const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
          if (seconds < 60) return Math.round(seconds) + " s ago";
          if (seconds < 3600) return Math.round(seconds / 60) + " min ago";
          if (seconds < 86400) return Math.round(seconds / 3600) + " h ago";
          return new Date(iso).toLocaleDateString();
        }

        const badge = (state) => `<span class="badge ${esc(state)}">${esc(state)}</span>`;
        const progressBar = (share) =>
          `<div class="bar"><span style="width:${(Math.min(Math.max(share, 0), 1) * 100).toFixed(1)}%"></span></div>`;
        const pretty = (value) => JSON.stringify(value, null, 2);
        const isSquare = (n) => Number.isInteger(Math.sqrt(n)) && n > 0;

        // ---- router --------------------------------------------------------------------
        function route() {
          if (leaveView) leaveView();
          leaveView = null;
          const hash = location.hash || "#/";
          let match;
          if ((match = hash.match(/^#\/jobs\/([^/]+)$/))) {
            leaveView = showJob(decodeURIComponent(match[1]));
          } else if ((match = hash.match(/^#\/models\/([^/]+)$/))) {
            leaveView = showModel(decodeURIComponent(match[1]));
          } else {
            leaveView = showHome(hash === "#/new");
          }
        }
        window.addEventListener("hashchange", () => { route(); window.scrollTo(0, 0); });

        // ---- home: jobs, models, new-job form ------------------------------------------
        function showHome(focusForm) {
          view.innerHTML = `
            <div class="grid-home">
              <div>
                <section class="card">
                  <div class="row"><h2>Jobs</h2><span class="spacer"></span>
                    <span class="muted small" id="list-status"></span></div>
                  <table id="jobs-table"><thead><tr><th>Job</th><th>State</th><th>Progress</th>
                    <th class="num">Epoch</th><th class="num">Loss</th><th class="num">L0</th><th>Created</th>
                    <th>Model</th></tr></thead>
                    <tbody><tr><td colspan="8" class="empty">Loading…</td></tr></tbody></table>
                </section>
                <section class="card">
                  <h2>Models</h2>
                  <table id="models-table"><thead><tr><th>Model</th><th>Size</th><th class="num">L0</th>
                    <th class="num">Dead</th><th class="num">Val. MSE</th><th>Created</th></tr></thead>
                    <tbody><tr><td colspan="6" class="empty">Loading…</td></tr></tbody></table>
                </section>
              </div>
              <section class="card">
                <h2>New job</h2>
                <form id="job-form">
                  <label for="example-select">Start from an example</label>
                  <select id="example-select"><option value="">Loading examples…</option></select>
                  <label for="job-json">Job JSON (edit it, or paste your own)</label>
                  <textarea id="job-json" spellcheck="false"></textarea>
                  <div class="row" style="margin-top:10px">
                    <button class="primary" id="submit-job" type="submit">Submit job</button>
                    <span class="muted small">POST /v1/jobs</span></div>
                  <div id="job-form-error" class="error" hidden></div>
                </form>
              </section>
            </div>`;
          setUpJobForm(focusForm);

          let isActive = true;
          let timer = null;
          async function refresh() {
            try {
              const [jobs, models] = await Promise.all([api("/v1/jobs?limit=50"), api("/v1/models")]);
              if (!isActive) return;
              renderJobs(jobs.jobs);
              renderModels(models.models);
              byId("list-status").textContent = "updated " + new Date().toLocaleTimeString();
            } catch (error) {
              if (isActive) byId("list-status").textContent = "cannot reach saed: " + error.message;
            }
            if (isActive) timer = setTimeout(refresh, 2000);
          }
          refresh();
          return () => { isActive = false; clearTimeout(timer); };
        }

        function renderJobs(jobs) {
          const body = byId("jobs-table").tBodies[0];
          if (!jobs.length) {
            body.innerHTML = `<tr><td colspan="8" class="empty">No jobs yet: submit one with the form.</td></tr>`;
            return;
          }
          body.innerHTML = jobs.map((job) => {
            const link = "#/jobs/" + encodeURIComponent(job.id);
            const latest = job.latest || {};
            const model = job.model_id
              ? `<a href="#/models/${encodeURIComponent(job.model_id)}">open</a>` : `<span class="muted">–</span>`;
            return `<tr><td><a href="${link}">${esc(job.name || job.id)}</a>
                <div class="muted small mono">${esc(job.id)}</div></td>
              <td>${badge(job.state)}</td><td>${progressBar(job.progress)}</td>
              <td class="num">${job.epoch} / ${job.epochs}</td><td class="num">${num(latest.loss)}</td>
              <td class="num">${num(latest.l0, 3)}</td><td>${ago(job.created_at)}</td><td>${model}</td></tr>`;
          }).join("");
        }

        function renderModels(models) {
          const body = byId("models-table").tBodies[0];
          if (!models.length) {
            body.innerHTML =
              `<tr><td colspan="6" class="empty">No models yet: a job that succeeds saves one.</td></tr>`;
            return;
          }
          body.innerHTML = models.map((model) => {
            const metrics = model.metrics || {};
            const dead = metrics.dead_fraction === undefined ? "–" : (metrics.dead_fraction * 100).toFixed(1) + "%";
            return `<tr><td><a href="#/models/${encodeURIComponent(model.id)}">${esc(model.name || model.id)}</a>
                <div class="muted small mono">${esc(model.id)}</div></td>
              <td>${model.input_size} → ${model.hidden_size}</td><td class="num">${num(metrics.l0, 3)}</td>
              <td class="num">${dead}</td><td class="num">${num(metrics.validation_reconstruction)}</td>
              <td>${ago(model.created_at)}</td></tr>`;
          }).join("");
        }

        const exampleText = (example) => example.text || pretty(example.job);

        async function setUpJobForm(focus) {
          const select = byId("example-select");
          const area = byId("job-json");
          const errorBox = byId("job-form-error");
          const button = byId("submit-job");
          let examples = [];
          const showError = (message) => { errorBox.textContent = message; errorBox.hidden = false; };

          byId("job-form").addEventListener("submit", async (event) => {
            event.preventDefault();
            errorBox.hidden = true;
            let job;
            try {
              job = JSON.parse(area.value);
            } catch (error) {
              showError("Not valid JSON: " + error.message);
              return;
            }
            button.disabled = true;
            try {
              const created = await api("/v1/jobs", {
                method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(job),
              });
              location.hash = "#/jobs/" + encodeURIComponent(created.id);
            } catch (error) {
              showError(error.message + (error.field ? "\n(field: " + error.field + ")" : ""));
            } finally {
              button.disabled = false;
            }
          });
          select.addEventListener("change", () => {
            if (select.value !== "") area.value = exampleText(examples[Number(select.value)]);
          });
          if (focus) area.focus();

          try {
            examples = (await api("/v1/examples")).examples;
          } catch (error) {
            select.innerHTML = `<option value="">No examples: ${esc(error.message)}</option>`;
            return;
          }
          select.innerHTML = examples.map((example, index) =>
            `<option value="${index}">${esc(example.name)} (${esc(example.source)})</option>`).join("")
            + `<option value="">(your own JSON)</option>`;
          const quick = examples.findIndex((example) => example.name === "quick-demo");
          select.value = String(quick >= 0 ? quick : 0);
          if (!area.value && examples.length) area.value = exampleText(examples[Number(select.value)]);
        }

        """#
}
