extension Dashboard {
    /// The model page: metrics, the feature grid, reconstructions and the encode playground.
    static let modelScript = #"""
        // ---- model page: metrics, pictures, encode playground ----------------------------
        function showModel(id) {
          const path = "/v1/models/" + encodeURIComponent(id);
          view.innerHTML = `<p><a href="#/">← Jobs &amp; models</a></p><p class="muted">Loading model…</p>`;
          let isActive = true;
          api(path).then((info) => { if (isActive) renderModel(info, path); }).catch((error) => {
            if (!isActive) return;
            view.innerHTML = `<p><a href="#/">← Jobs &amp; models</a></p>
              <div class="error">${esc(error.message)}</div>`;
          });
          return () => { isActive = false; };
        }

        function stat(name, value) {
          return `<div class="stat"><div class="value">${value}</div><div class="name">${esc(name)}</div></div>`;
        }

        function renderModel(info, path) {
          const m = info.metrics || {};
          const job = info.job_id
            ? ` · trained by <a href="#/jobs/${encodeURIComponent(info.job_id)}">${esc(info.job_id)}</a>` : "";
          const topK = info.top_k ? ` · top-${info.top_k}` : "";
          const square = isSquare(info.input_size);
          view.innerHTML = `
            <p><a href="#/">← Jobs &amp; models</a></p>
            <section class="card">
              <h1>${esc(info.name || info.id)}</h1>
              <div class="muted small"><span class="mono">${esc(info.id)}</span>
                · ${info.input_size} → ${info.hidden_size}
                · ${esc(info.activation)} / ${esc(info.decoder_activation)}${topK}${job}</div>
              <div class="stats" style="margin-top:12px">
                ${stat("epochs", m.epoch ?? "–")}${stat("loss", num(m.loss))}
                ${stat("reconstruction", num(m.reconstruction))}${stat("sparsity term", num(m.sparsity))}
                ${stat("L0 (training)", num(m.l0, 3))}${stat("dead latents", m.dead_count ?? "–")}
                ${stat("validation MSE", num(m.validation_reconstruction))}
                ${stat("L0 (validation)", num(m.validation_l0, 3))}
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
              <div class="muted small" id="reconstructions-caption">
                Top row: inputs. Bottom row: reconstructions.</div>
            </section>
            <section class="card" id="playground">
              <div class="row"><h2>Encode playground</h2><span class="spacer"></span>
                <span class="small muted">Fashion-MNIST test image</span>
                <input type="number" id="pg-index" min="0" value="0" style="width:90px">
                <button id="pg-prev">←</button><button id="pg-next">→</button>
                <button id="pg-random">Random</button></div>
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
              caption.textContent =
                `Inputs of ${info.input_size} values are not square: give a shape (rows x columns).`;
              return;
            }
            const query = new URLSearchParams({
              weights: byId("features-weights").value, sort: byId("features-sort").value,
            });
            if (shape) query.set("shape", shape);
            caption.textContent = "Drawing…";
            try {
              const headers = await loadPicture(img, `${path}/features.png?${query}`);
              const dead = headers.get("X-Dead-Latents");
              caption.innerHTML = headers.get("X-Feature-Order") === "frequency"
                ? `Sorted by how often each latent fires on ${headers.get("X-Firing-Sample-Rows")} training rows, most
                   often first. <span class="legend-dead"></span> never fired:
                   ${dead} dead latent${dead === "1" ? "" : "s"}.
                   Each tile is scaled to its own range (black = lowest, white = highest weight).`
                : "In latent order (the training data is not available to measure firing). "
                  + "Each tile is scaled to its own range.";
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
              byId("reconstructions-caption").textContent =
                "Inputs are not square pictures; use the API with shape=HxW.";
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
          const width = 600, height = 162, bottom = 128, top = 8;
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
          return svg + `<text x="${30 + width / 2}" y="${height - 2}" text-anchor="middle"
            fill="#111827">latent</text></svg>`;
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
              const top = code.map((value, j) => [value, j]).filter(([v]) => v > 0)
                .sort((a, b) => b[0] - a[0]).slice(0, 10);
              const shape = row.shape || [1, row.width];
              body.innerHTML = `
                <div class="figure"><canvas id="pg-input" class="pixels"></canvas><div>input #${row.index}</div></div>
                <div class="figure"><canvas id="pg-output" class="pixels"></canvas>
                  <div>reconstruction · MSE ${num(rebuilt.mse[0], 3)}</div></div>
                <div style="flex:1;min-width:320px">
                  <div class="small muted">code: ${active} of ${code.length} latents active</div>
                  <div id="code-chart">${codeChart(code)}</div>
                  <div class="top-latents">
                    ${top.map(([v, j]) => `<span>#${j} <b>${num(v, 3)}</b></span>`).join("")}</div>
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

        """#
}
