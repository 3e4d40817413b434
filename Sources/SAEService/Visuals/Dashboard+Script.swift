extension Dashboard {
    /// The page's script: a fragment router, the three views and the live loss chart.
    ///
    /// Plain ES2020, no libraries. Every request goes through `api`, which turns the service's
    /// JSON error bodies into thrown `Error`s whose message the views show in place; nothing
    /// is left to reject unhandled, so a healthy page logs nothing to the console.
    static let script = #"""
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
            body.innerHTML = `<tr><td colspan="6" class="empty">No models yet: a job that succeeds saves one.</td></tr>`;
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
            try { job = JSON.parse(area.value); } catch (error) { showError("Not valid JSON: " + error.message); return; }
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
            if (select.value !== "") area.value = pretty(examples[Number(select.value)].job);
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
          if (!area.value && examples.length) area.value = pretty(examples[Number(select.value)].job);
        }

        // ---- job page: progress and the live loss chart --------------------------------
        function showJob(id) {
          const path = "/v1/jobs/" + encodeURIComponent(id);
          view.innerHTML = `
            <p><a href="#/">← Jobs &amp; models</a></p>
            <section class="card">
              <div class="row">
                <div><h1 id="job-title">${esc(id)}</h1><div class="muted small mono">${esc(id)}</div></div>
                <span class="spacer"></span><span id="job-state"></span>
                <button id="cancel-job" class="danger" hidden>Cancel</button>
              </div>
              <div class="bar big"><span id="job-bar" style="width:0%"></span></div>
              <div class="row small muted"><span id="job-progress"></span><span class="spacer"></span>
                <span id="job-times"></span></div>
              <div id="job-error" class="error" hidden></div>
              <div id="job-model" class="small" style="margin-top:8px"></div>
            </section>
            <section class="card">
              <div class="row"><h2>Loss</h2><span class="spacer"></span>
                <a class="small" href="${path}/loss.svg" target="_blank">loss.svg</a></div>
              <div id="loss-chart" class="chart"></div>
            </section>
            <section class="card">
              <h2>Epochs</h2>
              <table id="epochs-table"><thead><tr><th class="num">Epoch</th><th class="num">Loss</th>
                <th class="num">Reconstruction</th><th class="num">Sparsity</th><th class="num">L0</th>
                <th class="num">Dead</th><th class="num">Val. MSE</th><th class="num">Val. L0</th>
                <th class="num">Samples/s</th><th class="num">Seconds</th></tr></thead><tbody></tbody></table>
            </section>`;

          const history = [];
          let job = null;
          let isActive = true;
          let timer = null;
          let source = null;

          function render() {
            if (!job) return;
            byId("job-title").textContent = job.name || job.id;
            byId("job-state").innerHTML = badge(job.state);
            byId("job-bar").style.width = (job.progress * 100).toFixed(1) + "%";
            byId("job-progress").textContent =
              `epoch ${history.length} of ${job.epochs} · ${(job.progress * 100).toFixed(0)}%`;
            const finished = job.finished_at ? " · finished " + ago(job.finished_at) : "";
            byId("job-times").textContent = "created " + ago(job.created_at) + finished;
            byId("cancel-job").hidden = !["queued", "running"].includes(job.state);
            const errorBox = byId("job-error");
            errorBox.hidden = !job.error;
            if (job.error) errorBox.textContent = job.error.code + ": " + job.error.message;
            byId("job-model").innerHTML = job.model_id
              ? `Saved model: <a href="#/models/${encodeURIComponent(job.model_id)}">${esc(job.model_id)}</a>` : "";
          }

          function renderHistory() {
            byId("loss-chart").innerHTML = lossChart(history, job ? job.epochs : history.length);
            byId("epochs-table").tBodies[0].innerHTML = history.slice().reverse().map((r) => `<tr>
              <td class="num">${r.epoch}</td><td class="num">${num(r.loss)}</td>
              <td class="num">${num(r.reconstruction)}</td><td class="num">${num(r.sparsity)}</td>
              <td class="num">${num(r.l0, 3)}</td><td class="num">${r.dead_count}</td>
              <td class="num">${num(r.validation_reconstruction)}</td><td class="num">${num(r.validation_l0, 3)}</td>
              <td class="num">${Math.round(r.samples_per_second)}</td><td class="num">${r.seconds.toFixed(2)}</td></tr>`)
              .join("");
          }

          async function poll() {
            try {
              job = await api(path);
              if (!isActive) return;
              render();
              if (!source) follow();
            } catch (error) {
              if (isActive && !job) {
                view.innerHTML = `<p><a href="#/">← Jobs &amp; models</a></p>
                  <div class="error">${esc(error.message)}</div>`;
                return;
              }
            }
            if (isActive && job && !["succeeded", "failed", "cancelled"].includes(job.state)) {
              timer = setTimeout(poll, 1000);
            }
          }

          // The stream replays every earlier event first, so the chart starts complete.
          function follow() {
            source = new EventSource(path + "/events");
            source.addEventListener("epoch", (event) => {
              const record = JSON.parse(event.data);
              history[record.epoch - 1] = record;
              renderHistory();
              if (job) render();
            });
            source.addEventListener("state", (event) => {
              const state = JSON.parse(event.data);
              if (state.state === "queued") history.length = 0;
              if (job) { job.state = state.state; render(); }
            });
            source.addEventListener("end", () => {
              source.close();
              clearTimeout(timer);
              poll();
            });
          }

          byId("cancel-job").addEventListener("click", async () => {
            try { job = await api(path + "/cancel", { method: "POST" }); render(); } catch (error) {
              const box = byId("job-error"); box.textContent = error.message; box.hidden = false;
            }
          });
          renderHistory();
          poll();
          return () => { isActive = false; clearTimeout(timer); if (source) source.close(); };
        }

        // ---- the loss chart, drawn from epoch records ------------------------------------
        const SERIES = [
          { key: "loss", label: "training loss", color: "#2563eb", panel: 0 },
          { key: "reconstruction", label: "reconstruction", color: "#16a34a", panel: 0 },
          { key: "sparsity", label: "sparsity (β·Ls)", color: "#d97706", panel: 0 },
          { key: "validation_reconstruction", label: "validation MSE", color: "#9333ea", panel: 0, dashed: true },
          { key: "l0", label: "L0 training", color: "#0891b2", panel: 1 },
          { key: "validation_l0", label: "L0 validation", color: "#0891b2", panel: 1, dashed: true },
        ];

        function niceAxis(maximum) {
          if (!(maximum > 0) || !Number.isFinite(maximum)) return { maximum: 1, step: 0.25 };
          const rough = maximum / 4;
          const magnitude = 10 ** Math.floor(Math.log10(rough));
          const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= rough);
          return { maximum: Math.ceil(maximum / step - 1e-9) * step, step };
        }

        function epochTicks(last) {
          const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => last / s <= 10)
            || Math.ceil(last / 10);
          const ticks = [];
          for (let epoch = 0; epoch <= last; epoch += step) ticks.push(epoch);
          return ticks;
        }

        function lossChart(history, planned) {
          const left = 72, right = 548;
          const panels = [{ top: 16, bottom: 234, title: "loss" }, { top: 270, bottom: 380, title: "L0 (active latents)" }];
          const records = history.filter(Boolean);
          const last = Math.max(planned, records.length ? records[records.length - 1].epoch : 0, 1);
          const x = (epoch) => left + (epoch / last) * (right - left);
          const plotted = SERIES.filter((s) => records.some((r) => Number.isFinite(r[s.key])));
          let svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 420" font-size="11"
            font-family="system-ui, sans-serif" role="img" aria-label="loss curves">`;
          panels.forEach((panel, index) => {
            const members = plotted.filter((s) => s.panel === index);
            const values = members.flatMap((s) => records.map((r) => r[s.key]).filter(Number.isFinite));
            const axis = niceAxis(Math.max(0, ...values));
            const y = (v) => panel.bottom - Math.min(Math.max(v / axis.maximum, 0), 1) * (panel.bottom - panel.top);
            for (let tick = 0; tick <= axis.maximum + axis.step / 2; tick += axis.step) {
              svg += `<line x1="${left}" x2="${right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e7eb"/>
                <text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#4b5563">${num(tick)}</text>`;
            }
            for (const epoch of epochTicks(last)) {
              svg += `<line x1="${x(epoch)}" x2="${x(epoch)}" y1="${panel.bottom}" y2="${panel.bottom + 4}" stroke="#6b7280"/>`;
              if (index === 1) {
                svg += `<text x="${x(epoch)}" y="${panel.bottom + 17}" text-anchor="middle" fill="#4b5563">${epoch}</text>`;
              }
            }
            svg += `<line x1="${left}" x2="${left}" y1="${panel.top}" y2="${panel.bottom}" stroke="#6b7280"/>
              <line x1="${left}" x2="${right}" y1="${panel.bottom}" y2="${panel.bottom}" stroke="#6b7280"/>
              <text transform="translate(18 ${(panel.top + panel.bottom) / 2}) rotate(-90)" text-anchor="middle"
                fill="#111827">${panel.title}</text>`;
            for (const series of members) {
              let d = "", dots = "";
              for (const record of records) {
                const value = record[series.key];
                if (!Number.isFinite(value)) continue;
                d += (d ? " L" : "M") + x(record.epoch).toFixed(2) + " " + y(value).toFixed(2);
                dots += `<circle cx="${x(record.epoch).toFixed(2)}" cy="${y(value).toFixed(2)}" r="3"
                  fill="${series.color}"><title>${series.label}, epoch ${record.epoch}: ${num(value)}</title></circle>`;
              }
              const dash = series.dashed ? ` stroke-dasharray="6 4"` : "";
              svg += `<path class="curve" data-series="${series.key}" d="${d}" fill="none"
                stroke="${series.color}" stroke-width="2"${dash}/>${dots}`;
            }
          });
          svg += `<text x="${(left + right) / 2}" y="414" text-anchor="middle" fill="#111827">epoch</text>`;
          if (!records.length) {
            svg += `<text x="${(left + right) / 2}" y="125" text-anchor="middle" fill="#6b7280" font-size="13">
              waiting for the first epoch</text>`;
          }
          plotted.forEach((series, index) => {
            const y = 28 + index * 20;
            const dash = series.dashed ? ` stroke-dasharray="6 4"` : "";
            svg += `<line x1="572" x2="598" y1="${y}" y2="${y}" stroke="${series.color}" stroke-width="2"${dash}/>
              <text x="606" y="${y + 4}" fill="#111827">${series.label}</text>`;
          });
          return svg + "</svg>";
        }

        // ---- model page: metrics, pictures, encode playground ----------------------------
        function showModel(id) {
          const path = "/v1/models/" + encodeURIComponent(id);
          view.innerHTML = `<p><a href="#/">← Jobs &amp; models</a></p><p class="muted">Loading model…</p>`;
          let isActive = true;
          api(path).then((info) => { if (isActive) renderModel(info, path); }).catch((error) => {
            if (isActive) view.innerHTML = `<p><a href="#/">← Jobs &amp; models</a></p><div class="error">${esc(error.message)}</div>`;
          });
          return () => { isActive = false; };
        }

        function stat(name, value) {
          return `<div class="stat"><div class="value">${value}</div><div class="name">${esc(name)}</div></div>`;
        }

        function renderModel(info, path) {
          const m = info.metrics || {};
          const job = info.job_id ? ` · trained by <a href="#/jobs/${encodeURIComponent(info.job_id)}">${esc(info.job_id)}</a>` : "";
          const topK = info.top_k ? ` · top-${info.top_k}` : "";
          const square = isSquare(info.input_size);
          view.innerHTML = `
            <p><a href="#/">← Jobs &amp; models</a></p>
            <section class="card">
              <h1>${esc(info.name || info.id)}</h1>
              <div class="muted small"><span class="mono">${esc(info.id)}</span> · ${info.input_size} → ${info.hidden_size}
                · ${esc(info.activation)} / ${esc(info.decoder_activation)}${topK}${job}</div>
              <div class="stats" style="margin-top:12px">
                ${stat("epochs", m.epoch ?? "–")}${stat("loss", num(m.loss))}
                ${stat("reconstruction", num(m.reconstruction))}${stat("sparsity term", num(m.sparsity))}
                ${stat("L0 (training)", num(m.l0, 3))}${stat("dead latents", m.dead_count ?? "–")}
                ${stat("validation MSE", num(m.validation_reconstruction))}${stat("L0 (validation)", num(m.validation_l0, 3))}
              </div>
            </section>
            <section class="card">
              <div class="row"><h2>Features</h2><span class="spacer"></span>
                <select id="features-weights"><option value="decoder">decoder rows</option>
                  <option value="encoder">encoder columns</option></select>
                <select id="features-sort"><option value="frequency">by firing frequency</option>
                  <option value="index">by latent index</option></select>
                ${square ? "" : `<input id="features-shape" placeholder="shape, e.g. 8x16" size="12">`}</div>
              <div class="picture"><img id="features-img" alt="feature grid"></div>
              <div class="muted small" id="features-caption"></div>
            </section>
            <section class="card">
              <div class="row"><h2>Reconstructions</h2><span class="spacer"></span>
                <button id="recon-prev">←</button><span class="small muted" id="recon-range"></span>
                <button id="recon-next">→</button></div>
              <div class="picture"><img id="reconstructions-img" alt="inputs above their reconstructions"></div>
              <div class="muted small" id="reconstructions-caption">Top row: inputs. Bottom row: reconstructions.</div>
            </section>
            <section class="card" id="playground">
              <div class="row"><h2>Encode playground</h2><span class="spacer"></span>
                <span class="small muted">Fashion-MNIST test image</span>
                <input type="number" id="pg-index" min="0" value="0" style="width:90px">
                <button id="pg-prev">←</button><button id="pg-next">→</button><button id="pg-random">Random</button></div>
              <div id="pg-body" class="row" style="align-items:flex-start"></div>
            </section>`;
          setUpFeatures(info, path, square);
          setUpReconstructions(info, path, square);
          setUpPlayground(info, path);
        }

        function setUpFeatures(info, path, square) {
          const img = byId("features-img");
          const caption = byId("features-caption");
          async function draw() {
            const shape = square ? "" : byId("features-shape").value.trim();
            if (!square && !shape) {
              caption.textContent = `Inputs of ${info.input_size} values are not square: give a shape (rows x columns).`;
              return;
            }
            const query = new URLSearchParams({ weights: byId("features-weights").value, sort: byId("features-sort").value });
            if (shape) query.set("shape", shape);
            caption.textContent = "Drawing…";
            try {
              const headers = await loadPicture(img, `${path}/features.png?${query}`);
              const dead = headers.get("X-Dead-Latents");
              caption.innerHTML = headers.get("X-Feature-Order") === "frequency"
                ? `Sorted by how often each latent fires on ${headers.get("X-Firing-Sample-Rows")} training rows, most
                   often first. <span class="legend-dead"></span> never fired: ${dead} dead latent${dead === "1" ? "" : "s"}.
                   Each tile is scaled to its own range (black = lowest, white = highest weight).`
                : "In latent order (the training data is not available to measure firing). Each tile is scaled to its own range.";
            } catch (error) {
              caption.textContent = "Cannot draw the features: " + error.message;
            }
          }
          for (const control of ["features-weights", "features-sort", "features-shape"]) {
            if (byId(control)) byId(control).addEventListener("change", draw);
          }
          draw();
        }

        function setUpReconstructions(info, path, square) {
          const img = byId("reconstructions-img");
          const count = 16;
          let start = 0;
          async function draw() {
            byId("recon-range").textContent = `rows ${start}–${start + count - 1}`;
            if (!square) {
              byId("reconstructions-caption").textContent = "Inputs are not square pictures; use the API with shape=HxW.";
              return;
            }
            try {
              await loadPicture(img, `${path}/reconstructions.png?n=${count}&start=${start}`);
            } catch (error) {
              byId("reconstructions-caption").textContent = "Cannot draw reconstructions: " + error.message;
            }
          }
          byId("recon-prev").addEventListener("click", () => { start = Math.max(0, start - count); draw(); });
          byId("recon-next").addEventListener("click", () => { start += count; draw(); });
          draw();
        }

        function drawPixels(canvas, values, shape) {
          const [height, width] = shape;
          canvas.width = width;
          canvas.height = height;
          const context = canvas.getContext("2d");
          const image = context.createImageData(width, height);
          values.forEach((value, i) => {
            const level = Math.round(Math.min(Math.max(value, 0), 1) * 255);
            image.data.set([level, level, level, 255], i * 4);
          });
          context.putImageData(image, 0, 0);
        }

        function codeChart(code) {
          const width = 600, height = 150, bottom = 128, top = 8;
          const peak = Math.max(...code, 1e-9);
          const step = width / code.length;
          let svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width + 40} ${height}" font-size="10"
            font-family="system-ui, sans-serif" style="width:100%;height:auto" role="img" aria-label="code">`;
          svg += `<line x1="30" x2="${width + 30}" y1="${bottom}" y2="${bottom}" stroke="#9ca3af"/>
            <text x="26" y="${top + 8}" text-anchor="end" fill="#4b5563">${num(peak, 3)}</text>
            <text x="26" y="${bottom}" text-anchor="end" fill="#4b5563">0</text>`;
          code.forEach((value, j) => {
            if (value <= 0) return;
            const h = (value / peak) * (bottom - top);
            svg += `<rect class="code-bar" x="${(30 + j * step).toFixed(2)}" y="${(bottom - h).toFixed(2)}"
              width="${Math.max(step - 1, 1).toFixed(2)}" height="${h.toFixed(2)}" fill="#2563eb">
              <title>latent ${j}: ${num(value)}</title></rect>`;
          });
          for (let j = 0; j < code.length; j += Math.max(1, Math.ceil(code.length / 8 / 8) * 8)) {
            svg += `<text x="${(30 + (j + 0.5) * step).toFixed(2)}" y="${bottom + 13}" text-anchor="middle"
              fill="#4b5563">${j}</text>`;
          }
          return svg + `<text x="${30 + width / 2}" y="${height - 2}" text-anchor="middle" fill="#111827">latent</text></svg>`;
        }

        function setUpPlayground(info, path) {
          const body = byId("pg-body");
          const indexInput = byId("pg-index");
          let rows = null;
          let request = 0;
          async function show(index) {
            const ticket = ++request;
            try {
              const row = await api(`/v1/datasets/fashion-mnist/test/rows/${index}`);
              if (row.width !== info.input_size) {
                body.innerHTML = `<p class="muted">This model takes ${info.input_size} values per row; the test images
                  have ${row.width}. Encode your own rows with POST ${esc(path)}/encode.</p>`;
                return;
              }
              const json = (payload) => ({ method: "POST", headers: { "Content-Type": "application/json" },
                                           body: JSON.stringify(payload) });
              const [encoded, rebuilt] = await Promise.all([
                api(`${path}/encode`, json({ inputs: [row.values], format: "dense" })),
                api(`${path}/reconstruct`, json({ inputs: [row.values] })),
              ]);
              if (ticket !== request || !byId("pg-body")) return;
              rows = row.rows;
              indexInput.max = String(rows - 1);
              const code = encoded.codes[0];
              const active = code.filter((v) => v !== 0).length;
              const top = code.map((value, j) => [value, j]).filter(([v]) => v > 0).sort((a, b) => b[0] - a[0]).slice(0, 10);
              const shape = row.shape || [1, row.width];
              body.innerHTML = `
                <div class="figure"><canvas id="pg-input" class="pixels"></canvas><div>input #${row.index}</div></div>
                <div class="figure"><canvas id="pg-output" class="pixels"></canvas>
                  <div>reconstruction · MSE ${num(rebuilt.mse[0], 3)}</div></div>
                <div style="flex:1;min-width:320px">
                  <div class="small muted">code: ${active} of ${code.length} latents active</div>
                  <div id="code-chart">${codeChart(code)}</div>
                  <div class="top-latents">${top.map(([v, j]) => `<span>#${j} <b>${num(v, 3)}</b></span>`).join("")}</div>
                </div>`;
              drawPixels(byId("pg-input"), row.values, shape);
              drawPixels(byId("pg-output"), rebuilt.reconstructions[0], shape);
            } catch (error) {
              if (byId("pg-body")) body.innerHTML = `<div class="error">${esc(error.message)}</div>`;
            }
          }
          const go = (index) => {
            const limit = rows ? rows - 1 : Number.MAX_SAFE_INTEGER;
            const next = Math.min(Math.max(0, Math.floor(index) || 0), limit);
            indexInput.value = String(next);
            show(next);
          };
          indexInput.addEventListener("change", () => go(Number(indexInput.value)));
          byId("pg-prev").addEventListener("click", () => go(Number(indexInput.value) - 1));
          byId("pg-next").addEventListener("click", () => go(Number(indexInput.value) + 1));
          byId("pg-random").addEventListener("click", () => go(Math.random() * (rows || 10000)));
          go(0);
        }

        route();

        """#
}
