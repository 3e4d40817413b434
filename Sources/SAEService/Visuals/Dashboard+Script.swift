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

        async function api(path, options) {
          const response = await fetch(path, options);
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
          const response = await fetch(url);
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
