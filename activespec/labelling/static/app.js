// activespec labelling page: plain JavaScript, no libraries, no external assets.
//
// Data flow: GET api/batch once, GET api/spectrum/<id> per spectrum (cached, the next one
// prefetched), POST api/labels for every label. Keyboard actions are queued, so that a
// fast typist's "2 1 3" labels three consecutive spectra, in order.
"use strict";

(() => {
  const token = new URLSearchParams(window.location.search).get("token");
  const authHeaders = token ? { "X-Activespec-Token": token } : {};

  const state = {
    round: null,
    classes: [],
    rows: [],
    progress: {},
    index: 0,
    views: new Map(), // spectrum_id -> spectrum payload
    loading: new Map(), // spectrum_id -> promise
    drafts: new Map(), // row key -> unsaved comment text
    queue: Promise.resolve(),
    helpOpen: false,
    hover: { window: null, full: null },
  };

  const $ = (id) => document.getElementById(id);
  const el = {
    list: $("batch-list"),
    title: $("title"),
    subtitle: $("subtitle"),
    roleBadge: $("role-badge"),
    position: $("position"),
    message: $("message"),
    roundName: $("round-name"),
    labeller: $("labeller"),
    probabilities: $("probabilities"),
    uncertainty: $("uncertainty"),
    classButtons: $("class-buttons"),
    comment: $("comment"),
    labelStatus: $("label-status"),
    history: $("history"),
    windowCanvas: $("plot-window"),
    fullCanvas: $("plot-full"),
    windowCaption: $("window-caption"),
    fullCaption: $("full-caption"),
    help: $("help"),
    helpClasses: $("help-classes"),
    toast: $("toast"),
  };

  const ROLE_NAMES = {
    query: "Query",
    performance: "Performance sample",
    recall: "Recall sample",
    candidate: "Candidate",
  };
  const ROLE_LETTERS = { query: "Q", performance: "P", recall: "R", candidate: "C" };
  // Progress bars shown even when the round has no such row.
  const ALWAYS_SHOWN = ["query"];

  // ------------------------------------------------------------------ server

  async function api(path, options = {}) {
    const response = await fetch(path, {
      ...options,
      cache: "no-store",
      headers: { ...authHeaders, ...(options.headers || {}) },
    });
    let payload = null;
    try {
      payload = await response.json();
    } catch (err) {
      payload = null;
    }
    if (!response.ok) {
      const reason = payload && payload.error ? payload.error : `HTTP ${response.status}`;
      throw new Error(reason);
    }
    return payload;
  }

  function loadView(spectrumId) {
    if (state.views.has(spectrumId)) return Promise.resolve(state.views.get(spectrumId));
    if (!state.loading.has(spectrumId)) {
      const promise = api(`api/spectrum/${encodeURIComponent(spectrumId)}`)
        .then((view) => {
          state.views.set(spectrumId, view);
          return view;
        })
        .finally(() => state.loading.delete(spectrumId));
      state.loading.set(spectrumId, promise);
    }
    return state.loading.get(spectrumId);
  }

  // ------------------------------------------------------------------ helpers

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function classIndex(name) {
    return state.classes.indexOf(name);
  }

  function fmt(value, digits = 3) {
    return value === null || value === undefined || Number.isNaN(value)
      ? "–"
      : Number(value).toFixed(digits);
  }

  function currentRow() {
    return state.rows[state.index];
  }

  function shortTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  function showMessage(text, kind = "error") {
    el.message.textContent = text;
    el.message.className = `message ${kind === "error" ? "" : kind}`.trim();
    el.message.hidden = false;
  }

  function clearMessage() {
    el.message.hidden = true;
    el.message.textContent = "";
  }

  let toastTimer = null;
  function toast(text) {
    el.toast.textContent = text;
    el.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      el.toast.hidden = true;
    }, 1600);
  }

  function enqueue(action) {
    state.queue = state.queue.then(action).catch((err) => showMessage(err.message));
    return state.queue;
  }

  // ------------------------------------------------------------------ rendering

  function renderProgress() {
    for (const role of ["query", "performance", "recall"]) {
      const item = $(`progress-${role}`);
      const counts = state.progress[role] || { labelled: 0, total: 0 };
      item.hidden = counts.total === 0 && !ALWAYS_SHOWN.includes(role);
      item.querySelector(".progress-text").textContent =
        `${counts.labelled} of ${counts.total} labelled`;
      const share = counts.total ? (100 * counts.labelled) / counts.total : 0;
      item.querySelector(".fill").style.width = `${share}%`;
      item.classList.toggle("done", counts.total > 0 && counts.labelled === counts.total);
    }
  }

  function labelChip(label) {
    if (!label) {
      const empty = make("span", "chip empty", "–");
      empty.title = "not labelled yet";
      return empty;
    }
    const chip = make("span", `chip c${classIndex(label.label)}`, label.label);
    if (label.comment) chip.title = label.comment;
    return chip;
  }

  function rowSubtitle(row) {
    const parts = [row.spectrum_id];
    if (row.predicted_class) {
      const p = row.probabilities ? row.probabilities[row.predicted_class] : null;
      parts.push(`pred. ${row.predicted_class}${p !== null && p !== undefined ? ` ${fmt(p, 2)}` : ""}`);
    }
    return parts.join(" · ");
  }

  // The score stratum a recall-sample row was drawn from, e.g. "stratum 0.05–0.2 of 640".
  function stratumText(row) {
    const s = row.stratum;
    if (!s || s.lower === null || s.lower === undefined) return "";
    const size = s.population === null || s.population === undefined ? "" : ` of ${s.population}`;
    return `positive score stratum ${s.lower}–${s.upper}${size}`;
  }

  function renderListItem(item, row, i) {
    item.replaceChildren();
    item.className = `row role-${row.role}${i === state.index ? " current" : ""}`;
    item.setAttribute("aria-selected", i === state.index ? "true" : "false");
    item.dataset.index = String(i);
    item.title = `${ROLE_NAMES[row.role] || row.role} #${row.rank ?? "?"}: ${row.spectrum_id}`;
    item.append(make("span", "row-role", ROLE_LETTERS[row.role] || "?"));
    const main = make("span", "row-main");
    main.append(make("span", "row-name", row.designation || row.spectrum_id));
    main.append(make("span", "row-sub", rowSubtitle(row)));
    item.append(main);
    item.append(labelChip(row.label));
  }

  function renderList() {
    el.list.replaceChildren();
    state.rows.forEach((row, i) => {
      const item = make("li");
      item.setAttribute("role", "option");
      renderListItem(item, row, i);
      item.addEventListener("click", () => enqueue(() => select(i)));
      el.list.append(item);
    });
  }

  function refreshListItems(spectrumId) {
    const items = el.list.children;
    state.rows.forEach((row, i) => {
      if (spectrumId === undefined || row.spectrum_id === spectrumId || i === state.index) {
        renderListItem(items[i], row, i);
      }
    });
  }

  function renderClassButtons() {
    el.classButtons.replaceChildren();
    el.helpClasses.replaceChildren();
    state.classes.forEach((name, i) => {
      const button = make("button", `class-button c${i}`);
      button.type = "button";
      button.dataset.index = String(i);
      button.append(make("kbd", null, String(i + 1)));
      button.append(make("span", `dot bg-c${i}`));
      button.append(make("span", null, name));
      button.addEventListener("click", () => enqueue(() => saveLabel(i)));
      el.classButtons.append(button);

      const line = make("tr");
      const keys = make("td");
      keys.append(make("kbd", null, String(i + 1)), " or ", make("kbd", null, `Alt+${i + 1}`));
      line.append(keys, make("td", null, `label as ${name}, then open the next unlabelled`));
      el.helpClasses.append(line);
    });
  }

  function renderDetail() {
    const row = currentRow();
    if (!row) return;
    el.roleBadge.textContent = `${ROLE_NAMES[row.role] || row.role} #${row.rank ?? "?"}`;
    el.roleBadge.className = `role-badge role-${row.role}`;
    el.title.textContent = row.designation || row.spectrum_id;
    el.subtitle.replaceChildren();
    const bits = [];
    const id = make("span", "mono", row.spectrum_id);
    bits.push(id);
    if (row.survey) bits.push(make("span", null, row.survey));
    if (row.snr !== null && row.snr !== undefined) bits.push(make("span", null, `S/N ${fmt(row.snr, 1)}`));
    if (row.ra !== null && row.ra !== undefined && row.dec !== null && row.dec !== undefined) {
      bits.push(make("span", null, `RA ${fmt(row.ra, 5)}°  Dec ${fmt(row.dec, 5)}°`));
    }
    if (row.source) {
      const file = make("span", "mono", row.source.split("/").pop());
      file.title = row.source;
      bits.push(file);
    }
    if (row.query_reason === "lost-candidate") {
      const text = make("span", "stratum", "lost candidate: listed last round, now predicted other");
      text.title = "A candidate of the previous round that the new model drops: shown again so that no find is lost silently";
      bits.push(text);
    }
    const stratum = stratumText(row);
    if (stratum) {
      const text = make("span", "stratum", stratum);
      text.title = "Drawn at random from the spectra predicted other in this score range";
      bits.push(text);
    }
    bits.forEach((bit, i) => {
      if (i) el.subtitle.append(make("span", "dot", "•"));
      el.subtitle.append(bit);
    });
    el.position.textContent = `${state.index + 1} / ${state.rows.length}`;

    renderProbabilities(row);
    renderLabel(row);
  }

  function renderProbabilities(row) {
    el.probabilities.replaceChildren();
    state.classes.forEach((name, i) => {
      const p = row.probabilities ? row.probabilities[name] : null;
      const line = make("div", `prob${name === row.predicted_class ? " predicted" : ""}`);
      line.append(make("kbd", null, String(i + 1)));
      line.append(make("span", "prob-name", name));
      const bar = make("span", "prob-bar");
      const fill = make("span", `prob-fill bg-c${i}`);
      fill.style.width = `${Math.max(0, Math.min(1, p || 0)) * 100}%`;
      bar.append(fill);
      line.append(bar, make("span", "prob-value", fmt(p, 3)));
      el.probabilities.append(line);
    });
    el.uncertainty.replaceChildren();
    for (const [key, label] of [
      ["entropy", "entropy"],
      ["margin", "margin"],
      ["least_confidence", "least conf."],
    ]) {
      const cell = make("div");
      cell.append(make("dt", null, label), make("dd", null, fmt(row[key], 3)));
      el.uncertainty.append(cell);
    }
  }

  function renderLabel(row) {
    for (const button of el.classButtons.children) {
      const selected = row.label && state.classes[Number(button.dataset.index)] === row.label.label;
      button.classList.toggle("selected", Boolean(selected));
      button.setAttribute("aria-pressed", selected ? "true" : "false");
    }
    const saved = row.label ? row.label.comment : "";
    if (document.activeElement !== el.comment) {
      el.comment.value = state.drafts.has(row.key) ? state.drafts.get(row.key) : saved;
    }
    el.comment.classList.toggle("dirty", el.comment.value.trim() !== (saved || "").trim());

    el.labelStatus.replaceChildren();
    if (row.label) {
      el.labelStatus.append(
        "Labelled ",
        make("strong", null, row.label.label),
        ` by ${row.label.labeller}, ${shortTime(row.label.created_at)}`,
      );
    } else if (row.earlier_label) {
      el.labelStatus.append(
        "Not labelled in this round; labelled ",
        make("strong", null, row.earlier_label.label),
        ` in round ${row.earlier_label.round}.`,
      );
    } else {
      el.labelStatus.append("Not labelled yet: press a number key.");
    }
    renderHistory(row);
  }

  function renderHistory(row) {
    el.history.replaceChildren();
    const view = state.views.get(row.spectrum_id);
    const history = view ? view.history || [] : [];
    if (history.length < 2) return;
    for (const record of history.slice().reverse()) {
      const item = make("li");
      item.append(
        make("span", "when", shortTime(record.created_at)),
        ` · round ${record.round} · ${record.label} · ${record.labeller}`,
        record.comment ? ` · “${record.comment}”` : "",
      );
      el.history.append(item);
    }
  }

  // ------------------------------------------------------------------ plots

  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / count;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => span / s <= count) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }

  function tickText(value, step) {
    const decimals = step >= 1 ? 0 : Math.min(4, Math.ceil(-Math.log10(step)));
    return value.toFixed(decimals);
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function prepareCanvas(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { ctx, width, height };
  }

  function drawNotice(canvas, text) {
    const { ctx, width, height } = prepareCanvas(canvas);
    ctx.fillStyle = "#f6f7fa";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#566074";
    ctx.font = "13px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    const words = text.split(" ");
    const lines = [];
    let line = "";
    for (const word of words) {
      const next = line ? `${line} ${word}` : word;
      if (ctx.measureText(next).width > width - 40 && line) {
        lines.push(line);
        line = word;
      } else {
        line = next;
      }
    }
    lines.push(line);
    lines.forEach((l, i) => ctx.fillText(l, width / 2, height / 2 + (i - (lines.length - 1) / 2) * 18));
  }

  function lineColour(name, text) {
    if (name === "H-alpha") return text ? "#b91c1c" : "#dc2626";
    return "#0e7490";
  }

  // series: {wave, flux, bad (0/1 per point) or badFraction (0..1 per point)}
  // options: {lines: {name: wavelength}, band: [lo, hi], xLabel, yLabel, color, hover}
  function drawPlot(canvas, series, options) {
    const { ctx, width, height } = prepareCanvas(canvas);
    const margin = { left: 58, right: 14, top: 22, bottom: 38 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const { wave, flux } = series;
    const bad = series.bad || null;

    let xMin = Infinity;
    let xMax = -Infinity;
    let yMin = Infinity;
    let yMax = -Infinity;
    for (let i = 0; i < wave.length; i += 1) {
      xMin = Math.min(xMin, wave[i]);
      xMax = Math.max(xMax, wave[i]);
      const y = flux[i];
      if (y === null || (bad && bad[i])) continue;
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
    if (!Number.isFinite(yMin)) {
      for (const y of flux) {
        if (y === null) continue;
        yMin = Math.min(yMin, y);
        yMax = Math.max(yMax, y);
      }
    }
    if (!Number.isFinite(yMin)) {
      drawNotice(canvas, "no finite flux to plot");
      return;
    }
    if (yMax === yMin) {
      yMax += 1;
      yMin -= 1;
    }
    const pad = 0.06 * (yMax - yMin);
    yMin -= pad;
    yMax += pad;
    const X = (x) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
    const Y = (y) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

    // Frame, grid and ticks.
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(margin.left, margin.top, plotW, plotH);
    ctx.font = "11.5px system-ui, sans-serif";
    ctx.fillStyle = "#566074";
    ctx.strokeStyle = "#edf0f5";
    ctx.lineWidth = 1;
    const xTicks = niceTicks(xMin, xMax, Math.max(3, Math.floor(plotW / 90)));
    const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of xTicks) {
      const x = Math.round(X(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, margin.top);
      ctx.lineTo(x, margin.top + plotH);
      ctx.stroke();
      ctx.fillText(tickText(t, xStep), x, margin.top + plotH + 5);
    }
    const yTicks = niceTicks(yMin, yMax, Math.max(3, Math.floor(plotH / 45)));
    const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of yTicks) {
      const y = Math.round(Y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(margin.left, y);
      ctx.lineTo(margin.left + plotW, y);
      ctx.stroke();
      ctx.fillText(tickText(t, yStep), margin.left - 6, y);
    }
    ctx.strokeStyle = "#b8c0cc";
    ctx.strokeRect(margin.left + 0.5, margin.top + 0.5, plotW - 1, plotH - 1);
    ctx.fillStyle = "#3b4456";
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(options.xLabel, margin.left + plotW / 2, height - 2);
    ctx.save();
    ctx.translate(13, margin.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(options.yLabel, 0, 0);
    ctx.restore();

    ctx.save();
    ctx.beginPath();
    ctx.rect(margin.left, margin.top, plotW, plotH);
    ctx.clip();

    // The model's window on the full spectrum.
    if (options.band) {
      const [lo, hi] = options.band;
      ctx.fillStyle = "rgba(29, 78, 216, 0.07)";
      ctx.fillRect(X(lo), margin.top, X(hi) - X(lo), plotH);
    }
    // Grid pixels made of masked data (window plot).
    if (series.badFraction) {
      ctx.fillStyle = "rgba(220, 38, 38, 0.16)";
      const half = wave.length > 1 ? (X(wave[1]) - X(wave[0])) / 2 : 2;
      series.badFraction.forEach((f, i) => {
        if (f > 0) ctx.fillRect(X(wave[i]) - half, margin.top + plotH * (1 - f), 2 * half, plotH * f);
      });
    }
    // Spectral lines.
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1;
    for (const [name, lambda] of Object.entries(options.lines || {})) {
      if (lambda < xMin || lambda > xMax) continue;
      const x = Math.round(X(lambda)) + 0.5;
      ctx.strokeStyle = lineColour(name, false);
      ctx.beginPath();
      ctx.moveTo(x, margin.top);
      ctx.lineTo(x, margin.top + plotH);
      ctx.stroke();
    }
    ctx.setLineDash([]);

    // The flux: good pixels in colour, bad ones grey.
    ctx.lineWidth = options.lineWidth || 1.2;
    ctx.lineJoin = "round";
    let drawing = false;
    let currentBad = null;
    for (let i = 0; i < wave.length; i += 1) {
      const y = flux[i];
      if (y === null) {
        if (drawing) ctx.stroke();
        drawing = false;
        continue;
      }
      const isBad = Boolean(bad && bad[i]);
      const px = X(wave[i]);
      const py = Y(y);
      if (!drawing || isBad !== currentBad) {
        if (drawing) {
          ctx.lineTo(px, py);
          ctx.stroke();
        }
        ctx.beginPath();
        ctx.strokeStyle = isBad ? "#c4c9d2" : options.color;
        ctx.moveTo(px, py);
        drawing = true;
        currentBad = isBad;
      } else {
        ctx.lineTo(px, py);
      }
    }
    if (drawing) ctx.stroke();
    if (options.markers) {
      ctx.fillStyle = options.color;
      for (let i = 0; i < wave.length; i += 1) {
        if (flux[i] === null) continue;
        ctx.beginPath();
        ctx.arc(X(wave[i]), Y(flux[i]), 1.6, 0, 2 * Math.PI);
        ctx.fill();
      }
    }

    // Hover read-out.
    const hover = options.hover;
    if (hover !== null && hover !== undefined && flux[hover] !== null) {
      const hx = X(wave[hover]);
      const hy = Y(flux[hover]);
      ctx.strokeStyle = "rgba(24, 32, 46, 0.35)";
      ctx.beginPath();
      ctx.moveTo(hx + 0.5, margin.top);
      ctx.lineTo(hx + 0.5, margin.top + plotH);
      ctx.stroke();
      ctx.fillStyle = options.color;
      ctx.beginPath();
      ctx.arc(hx, hy, 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.restore();

    // Line names above the frame, moved aside when two lines are close.
    ctx.font = "600 11px system-ui, sans-serif";
    ctx.textBaseline = "bottom";
    ctx.textAlign = "left";
    const placed = [];
    const visible = Object.entries(options.lines || {})
      .filter(([, lambda]) => lambda >= xMin && lambda <= xMax)
      .sort((a, b) => a[1] - b[1]);
    for (const [name, lambda] of visible) {
      const text = name === "H-alpha" ? "Hα" : name;
      const width = ctx.measureText(text).width;
      const x = X(lambda);
      const candidates = [x - width / 2, x - width - 3, x + 3];
      const left =
        candidates.find((c) => placed.every(([a, b]) => c + width + 4 <= a || c >= b + 4)) ??
        candidates[2];
      placed.push([left, left + width]);
      ctx.fillStyle = lineColour(name, true);
      ctx.fillText(text, left, margin.top - 4);
    }
    if (hover !== null && hover !== undefined && flux[hover] !== null) {
      ctx.font = "11.5px ui-monospace, monospace";
      ctx.textAlign = "right";
      ctx.fillStyle = "#18202e";
      ctx.fillText(
        `λ ${wave[hover].toFixed(2)} Å   ${options.yShort} ${Number(flux[hover]).toPrecision(4)}`,
        margin.left + plotW,
        margin.top - 4,
      );
    }

    canvas.plotGeometry = { X, xMin, xMax, margin, plotW };
  }

  function drawPlots() {
    const row = currentRow();
    if (!row) return;
    const view = state.views.get(row.spectrum_id);
    if (!view) {
      drawNotice(el.windowCanvas, "Loading spectrum…");
      drawNotice(el.fullCanvas, "Loading spectrum…");
      el.windowCaption.textContent = "";
      el.fullCaption.textContent = "";
      return;
    }
    if (view.window) {
      const w = view.window;
      drawPlot(el.windowCanvas, { wave: w.wave, flux: w.flux, badFraction: w.bad_fraction }, {
        lines: w.lines,
        xLabel: "wavelength [Å], vacuum",
        yLabel: "scaled flux",
        yShort: "f",
        color: "#1d4ed8",
        lineWidth: 1.6,
        markers: true,
        hover: state.hover.window,
      });
      const sigma = w.sigma_pixels > 0 ? `, degraded σ = ${w.sigma_pixels} px` : "";
      el.windowCaption.textContent = `${w.wave.length} points, ${w.range[0]}–${w.range[1]} Å${sigma}`;
    } else {
      drawNotice(el.windowCanvas, view.window_error || view.error || "no window");
      el.windowCaption.textContent = "";
    }
    if (view.full) {
      const f = view.full;
      drawPlot(el.fullCanvas, { wave: f.wave, flux: f.flux, bad: f.bad }, {
        lines: f.lines,
        band: f.window_range,
        xLabel: `wavelength [Å], ${f.medium}`,
        yLabel: "flux",
        yShort: "f",
        color: "#18202e",
        lineWidth: 1,
        hover: state.hover.full,
      });
      const decimated = f.decimated ? `, shown as ${f.wave.length} min/max points` : "";
      el.fullCaption.textContent = `${f.n_pixels} pixels, ${f.medium}${decimated}; grey = masked`;
    } else {
      drawNotice(el.fullCanvas, view.error || "spectrum not available");
      el.fullCaption.textContent = "";
    }
  }

  function attachHover(canvas, key, seriesOf) {
    canvas.addEventListener("mousemove", (event) => {
      const geometry = canvas.plotGeometry;
      const series = seriesOf();
      if (!geometry || !series) return;
      const rect = canvas.getBoundingClientRect();
      const x = event.clientX - rect.left;
      const lambda = geometry.xMin + ((x - geometry.margin.left) / geometry.plotW) * (geometry.xMax - geometry.xMin);
      let lo = 0;
      let hi = series.wave.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (series.wave[mid] < lambda) lo = mid;
        else hi = mid;
      }
      const nearest = Math.abs(series.wave[lo] - lambda) <= Math.abs(series.wave[hi] - lambda) ? lo : hi;
      if (state.hover[key] !== nearest) {
        state.hover[key] = nearest;
        drawPlots();
      }
    });
    canvas.addEventListener("mouseleave", () => {
      state.hover[key] = null;
      drawPlots();
    });
  }

  // ------------------------------------------------------------------ actions

  async function select(i) {
    if (!state.rows.length) return;
    const index = Math.max(0, Math.min(state.rows.length - 1, i));
    const previous = state.index;
    state.index = index;
    state.hover = { window: null, full: null };
    const items = el.list.children;
    if (items[previous]) renderListItem(items[previous], state.rows[previous], previous);
    renderListItem(items[index], state.rows[index], index);
    items[index].scrollIntoView({ block: "nearest" });
    clearMessage();
    renderDetail();
    drawPlots();
    const row = currentRow();
    const view = loadView(row.spectrum_id)
      .then(() => {
        if (currentRow() === row) {
          renderHistory(row);
          drawPlots();
          const loaded = state.views.get(row.spectrum_id);
          if (loaded && loaded.error) showMessage(loaded.error);
        }
      })
      .catch((err) => {
        if (currentRow() === row) {
          showMessage(`Cannot load the spectrum: ${err.message}`);
          drawNotice(el.windowCanvas, "not available");
          drawNotice(el.fullCanvas, "not available");
        }
      });
    // Prefetch the next spectrum while this one is looked at.
    const next = state.rows[index + 1];
    if (next) view.then(() => loadView(next.spectrum_id).catch(() => {}));
  }

  function nextUnlabelledIndex(from) {
    const n = state.rows.length;
    for (let step = 1; step <= n; step += 1) {
      const i = (from + step) % n;
      if (!state.rows[i].label) return i;
    }
    return -1;
  }

  async function saveLabel(classIdx, { advance = true } = {}) {
    const row = currentRow();
    const name = state.classes[classIdx];
    if (!row || name === undefined) return;
    const comment = el.comment.value.trim();
    const result = await api("api/labels", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ spectrum_id: row.spectrum_id, label: name, comment, role: row.role }),
    });
    applySaved(result);
    state.drafts.delete(row.key);
    el.comment.value = comment;
    toast(`${row.designation || row.spectrum_id}: ${name}${comment ? " (with comment)" : ""}`);
    if (advance) {
      const next = nextUnlabelledIndex(state.index);
      if (next >= 0 && next !== state.index) {
        await select(next);
        return;
      }
      showMessage("Every spectrum of this round is labelled. Thank you!", "info");
    }
    renderDetail();
  }

  function applySaved(result) {
    const saved = result.saved;
    for (const row of state.rows) {
      if (row.spectrum_id === saved.spectrum_id) row.label = saved;
    }
    const view = state.views.get(saved.spectrum_id);
    if (view) {
      view.history = [...(view.history || []), saved];
      view.label = saved;
    }
    state.progress = result.progress;
    renderProgress();
    refreshListItems(saved.spectrum_id);
  }

  async function saveComment() {
    const row = currentRow();
    const text = el.comment.value.trim();
    if (!row) return;
    if (!row.label) {
      state.drafts.set(row.key, text);
      showMessage(
        text
          ? "Comment kept: choose a class (number key) to save it with the label."
          : "Nothing to save.",
        "info",
      );
      return;
    }
    if (text === (row.label.comment || "")) {
      toast("Comment unchanged");
      return;
    }
    await saveLabel(classIndex(row.label.label), { advance: false });
    toast("Comment saved");
  }

  function openHelp(open) {
    state.helpOpen = open;
    el.help.hidden = !open;
  }

  function digitOf(event) {
    const match = /^(?:Digit|Numpad)([1-9])$/.exec(event.code || "");
    if (match) return Number(match[1]);
    if (/^[1-9]$/.test(event.key)) return Number(event.key);
    return 0;
  }

  function onKeyDown(event) {
    if (event.target === el.comment) return;
    if (state.helpOpen) {
      if (event.key === "Escape" || event.key === "?") {
        event.preventDefault();
        openHelp(false);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    const digit = digitOf(event);
    if (digit) {
      if (digit <= state.classes.length) {
        event.preventDefault();
        enqueue(() => saveLabel(digit - 1));
      }
      return;
    }
    if (event.altKey) return;
    const actions = {
      j: () => select(state.index + 1),
      ArrowDown: () => select(state.index + 1),
      k: () => select(state.index - 1),
      ArrowUp: () => select(state.index - 1),
      n: () => {
        const next = nextUnlabelledIndex(state.index);
        return next >= 0 ? select(next) : toast("Everything is labelled");
      },
      g: () => select(0),
      Home: () => select(0),
      G: () => select(state.rows.length - 1),
      End: () => select(state.rows.length - 1),
    };
    if (event.key === "c") {
      event.preventDefault();
      enqueue(() => {
        el.comment.focus();
        el.comment.setSelectionRange(el.comment.value.length, el.comment.value.length);
      });
    } else if (event.key === "?") {
      event.preventDefault();
      openHelp(true);
    } else if (event.key === "Escape") {
      clearMessage();
    } else if (actions[event.key]) {
      event.preventDefault();
      enqueue(actions[event.key]);
    }
  }

  function onCommentKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      el.comment.blur();
      enqueue(saveComment);
    } else if (event.key === "Escape") {
      event.preventDefault();
      const row = currentRow();
      if (row) state.drafts.set(row.key, el.comment.value);
      el.comment.blur();
    }
  }

  // ------------------------------------------------------------------ start

  async function start() {
    document.addEventListener("keydown", onKeyDown);
    el.comment.addEventListener("keydown", onCommentKeyDown);
    el.comment.addEventListener("input", () => {
      const row = currentRow();
      if (!row) return;
      state.drafts.set(row.key, el.comment.value);
      el.comment.classList.toggle(
        "dirty",
        el.comment.value.trim() !== ((row.label && row.label.comment) || ""),
      );
    });
    $("help-button").addEventListener("click", () => openHelp(true));
    $("help-close").addEventListener("click", () => openHelp(false));
    el.help.addEventListener("click", (event) => {
      if (event.target === el.help) openHelp(false);
    });
    attachHover(el.windowCanvas, "window", () => {
      const view = state.views.get((currentRow() || {}).spectrum_id);
      return view && view.window;
    });
    attachHover(el.fullCanvas, "full", () => {
      const view = state.views.get((currentRow() || {}).spectrum_id);
      return view && view.full;
    });
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(drawPlots, 80);
    });

    let batch;
    try {
      batch = await api("api/batch");
    } catch (err) {
      el.title.textContent = "Cannot load the batch";
      showMessage(err.message);
      return;
    }
    state.round = batch.round;
    state.classes = batch.classes;
    state.rows = batch.rows;
    state.progress = batch.progress;
    el.roundName.textContent = `round ${batch.round}`;
    document.title = `Round ${batch.round} · activespec labelling`;
    el.labeller.textContent = batch.labeller;
    renderClassButtons();
    renderProgress();
    renderList();
    if (!state.rows.length) {
      el.title.textContent = "Nothing to label in this round";
      drawNotice(el.windowCanvas, "empty batch");
      drawNotice(el.fullCanvas, "empty batch");
      return;
    }
    const first = state.rows.findIndex((row) => !row.label);
    await select(first >= 0 ? first : 0);
    document.body.dataset.ready = "true";
  }

  start();
})();
