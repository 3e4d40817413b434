extension Dashboard {
    /// The job page: progress, the epoch table, and the loss chart redrawn from each `epoch`
    /// event of the job's event stream.
    static let jobScript = #"""
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
              <td class="num">${Math.round(r.samples_per_second)}</td>
              <td class="num">${r.seconds.toFixed(2)}</td></tr>`)
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
            source = followEvents(path + "/events", (type, data) => {
              if (type === "epoch") {
                const record = JSON.parse(data);
                history[record.epoch - 1] = record;
                renderHistory();
                if (job) render();
              } else if (type === "state") {
                const state = JSON.parse(data);
                if (state.state === "queued") history.length = 0;
                if (job) { job.state = state.state; render(); }
              } else if (type === "end") {
                source.close();
                clearTimeout(timer);
                poll();
              }
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
          const ticks = step === 1 ? [] : [1];
          for (let epoch = step; epoch <= last; epoch += step) ticks.push(epoch);
          return ticks;
        }

        function lossChart(history, planned) {
          const left = 72, right = 548;
          const panels = [
            { top: 16, bottom: 234, title: "loss" },
            { top: 270, bottom: 380, title: "L0 (active latents)" },
          ];
          const records = history.filter(Boolean);
          const last = Math.max(planned, records.length ? records[records.length - 1].epoch : 0, 1);
          // Half an epoch of margin on each side keeps the first and last dots off the frame.
          const x = (epoch) => left + ((epoch - 0.5) / last) * (right - left);
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
              svg += `<line x1="${x(epoch)}" x2="${x(epoch)}" y1="${panel.bottom}" y2="${panel.bottom + 4}"
                stroke="#6b7280"/>`;
              if (index === 1) {
                svg += `<text x="${x(epoch)}" y="${panel.bottom + 17}" text-anchor="middle"
                  fill="#4b5563">${epoch}</text>`;
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
                  fill="${series.color}"><title>${series.label}, epoch ${record.epoch}: ${num(value)}</title>
                  </circle>`;
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

        """#
}
