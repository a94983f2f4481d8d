"use strict";
// The neardup report: the result is embedded as JSON; only the shown page of groups is built
// as DOM, so 10,000 groups stay quick. No network: everything is in this file (or, for
// thumbnails, in the folder beside it).
(function () {
  const DATA = JSON.parse(document.getElementById("neardup-data").textContent);
  const IMAGES = DATA.images;
  const GROUPS = DATA.groups;
  const THUMBS = DATA.thumbs || [];
  const FULL = DATA.full || []; // file URLs of the pictures a browser can show at full size
  const STORE_KEY = "neardup-report:" + DATA.id;
  const $ = (id) => document.getElementById(id);

  // marks[g] = {imageIndex: "keep" | "remove"} for the groups with any mark.
  let marks = {};
  try {
    marks = JSON.parse(localStorage.getItem(STORE_KEY) || "{}") || {};
  } catch (e) {
    marks = {};
  }
  function save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(marks));
    } catch (e) {
      /* storage off (private window): marks live until the page closes */
    }
  }

  // What each group is filtered and sorted by: its weakest pair, its difference kinds.
  const KINDS = new Set();
  const META = GROUPS.map((g, n) => {
    let minC = 1, maxC = 0, minS = 1;
    const kinds = new Set();
    let free = 0;
    const paths = [named(IMAGES[g.k])];
    for (const m of g.m) {
      minC = Math.min(minC, m.c);
      maxC = Math.max(maxC, m.c);
      minS = Math.min(minS, m.s);
      if (!isFrame(IMAGES[m.i])) free += IMAGES[m.i].b || 0;  // a frame frees no file
      paths.push(named(IMAGES[m.i]));
      for (const kind of kindsOf(m.d)) {
        kinds.add(kind);
        KINDS.add(kind);
      }
    }
    return { n, minC, maxC, minS, kinds, free, size: g.m.length + 1,
             text: paths.join("\n").toLowerCase() };
  });

  // A scan's differences (schema neardup.scan/2) name their kinds in `kinds`, with a one-line
  // `summary`; an older or hand-made object without `kinds` shows each field that is set.
  function kindsOf(d) {
    if (!d) return [];
    if (Array.isArray(d.kinds)) return d.kinds;
    return Object.entries(d).filter(([, value]) => shown(value)).map(([kind]) => kind);
  }
  function shown(value) {
    return !(value === false || value === null || value === undefined || value === 0 || value === "");
  }
  function fmt(x, digits) {
    return typeof x === "number" ? x.toFixed(digits === undefined ? 3 : digits) : String(x);
  }
  // A video's frame is one item of the result, not a file: named by its frame and time.
  function isFrame(img) {
    return img.fr !== undefined && img.fr !== null;
  }
  function named(img) {
    if (!isFrame(img)) return img.p;
    return `${img.p} [frame ${img.fr}` + (img.tm !== undefined ? `, ${img.tm} s]` : "]");
  }
  function facts(img) {
    return `${img.w}×${img.h} · ${isFrame(img) ? "video frame" : bytes(img.b)} · ${img.f || "?"}`;
  }
  function bytes(n) {
    if (n === undefined || n === null) return "?";
    const units = ["B", "kB", "MB", "GB"];
    let v = n, u = 0;
    while (v >= 1000 && u < units.length - 1) { v /= 1000; u += 1; }
    return (u ? v.toFixed(1) : String(v)) + " " + units[u];
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  // ---- header: summary, leakage, kinds ----
  const st = DATA.stats || {};
  const cut = DATA.settings && DATA.settings.threshold;
  $("summary").textContent =
    `${DATA.result}: ${st.images ?? IMAGES.length} images, ${GROUPS.length} groups, ` +
    `${st.pairs ?? "?"} pairs at confidence ≥ ${cut ?? "?"}` +
    (DATA.settings && DATA.settings.preset ? ` (preset ${DATA.settings.preset})` : "") +
    (DATA.thumbs_note ? ` · ${DATA.thumbs_note}` : "");
  for (const kind of [...KINDS].sort()) $("kind").append(el("option", { value: kind, text: kind }));
  $("kind").append(el("option", { value: "(none)", text: "(none measured)" }));

  function renderValue(value) {
    // Any JSON as tables: an object of objects is one row per key, a list of objects one row
    // per item, an object of plain values two columns.
    if (Array.isArray(value)) {
      if (value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
        const cols = [...new Set(value.flatMap((v) => Object.keys(v)))];
        const table = el("table", { class: "data" });
        table.append(el("tr", {}, ...cols.map((c) => el("th", { text: c }))));
        for (const row of value) {
          table.append(el("tr", {}, ...cols.map((c) => el("td", {}, renderValue(row[c])))));
        }
        return table;
      }
      return document.createTextNode(
        value.map((v) => (typeof v === "object" ? JSON.stringify(v) : Number.isInteger(v) ? String(v) : fmt(v))).join(", "));
    }
    if (value && typeof value === "object") {
      const entries = Object.entries(value);
      const rows = entries.filter(([, v]) => v && typeof v === "object" && !Array.isArray(v));
      const table = el("table", { class: "data" });
      if (rows.length === entries.length && entries.length) {
        const cols = [...new Set(rows.flatMap(([, v]) => Object.keys(v)))];
        table.append(el("tr", {}, el("th", { text: "" }), ...cols.map((c) => el("th", { text: c }))));
        for (const [k, v] of rows) {
          table.append(el("tr", {}, el("th", { text: k }), ...cols.map((c) => el("td", {}, renderValue(v[c])))));
        }
        return table;
      }
      for (const [k, v] of entries) table.append(el("tr", {}, el("th", { text: k }), el("td", {}, renderValue(v))));
      return table;
    }
    if (value === undefined || value === null) return document.createTextNode("");
    return document.createTextNode(Number.isInteger(value) ? String(value) : fmt(value));
  }
  if (DATA.leakage !== undefined && DATA.leakage !== null) {
    $("leakage").hidden = false;
    $("leakage-body").append(renderValue(DATA.leakage));
  }
  const skipped = DATA.skipped || [];
  if (skipped.length) {
    // What the scan could not read is part of the review: a file missing from every group
    // may be a duplicate nobody saw.
    $("skipped").hidden = false;
    $("skipped-count").textContent = `${skipped.length} file${skipped.length === 1 ? "" : "s"} skipped (not read)`;
    $("skipped-body").append(renderValue(skipped));
    $("summary").textContent += ` · ${skipped.length} skipped`;
  }

  // ---- view: filter, sort, page ----
  let view = [];
  let page = 0;
  let focusGroup = 0; // position on the page
  let focusImage = 0; // position in the group (0 is the keeper)

  function decided(n) {
    return marks[n] && Object.keys(marks[n]).length > 0;
  }
  function pageSize() {
    return parseInt($("page-size").value, 10) || 25;
  }
  function computeView() {
    const minConf = parseFloat($("min-conf").value);
    const maxSim = parseFloat($("max-sim").value);
    const kind = $("kind").value;
    const text = $("search").value.trim().toLowerCase();
    const state = $("state").value;
    view = META.filter((m) =>
      (isNaN(minConf) || m.minC >= minConf - 1e-9) &&
      (isNaN(maxSim) || m.minS <= maxSim + 1e-9) &&
      (!kind || (kind === "(none)" ? m.kinds.size === 0 : m.kinds.has(kind))) &&
      (!text || m.text.includes(text)) &&
      (state === "all" || (state === "decided") === !!decided(m.n)));
    const sort = $("sort").value;
    const by = {
      "conf-desc": (a, b) => b.minC - a.minC,
      "conf-asc": (a, b) => a.minC - b.minC,
      "sim-asc": (a, b) => a.minS - b.minS,
      "sim-desc": (a, b) => b.minS - a.minS,
      "size-desc": (a, b) => b.size - a.size,
      "bytes-desc": (a, b) => b.free - a.free,
      "path": (a, b) => (IMAGES[GROUPS[a.n].k].p < IMAGES[GROUPS[b.n].k].p ? -1 : 1),
    }[sort];
    view.sort((a, b) => by(a, b) || a.n - b.n);
    view = view.map((m) => m.n);
  }
  function pages() {
    return Math.max(1, Math.ceil(view.length / pageSize()));
  }
  function onPage() {
    return view.slice(page * pageSize(), (page + 1) * pageSize());
  }

  function markOf(n, i) {
    return (marks[n] && marks[n][i]) || "";
  }
  function setMark(n, i, value) {
    marks[n] = marks[n] || {};
    if (value) marks[n][i] = value;
    else delete marks[n][i];
    if (!Object.keys(marks[n]).length) delete marks[n];
    save();
  }
  function members(n) {
    const g = GROUPS[n];
    return [{ i: g.k, keeper: true }, ...g.m];
  }

  function card(n, m, position) {
    const img = IMAGES[m.i];
    const mark = markOf(n, m.i);
    const figure = el("figure", {
      class: "card mark-" + (mark || "none") + (m.keeper ? " suggested" : ""),
      "data-i": String(m.i),
      "data-pos": String(position),
    });
    const thumb = el("div", { class: "thumb" });
    const src = THUMBS[m.i];
    if (src) thumb.append(el("img", { src, alt: named(img), loading: "lazy", title: named(img) }));
    else thumb.append(el("div", { class: "missing", text: "no thumbnail" }));
    figure.append(thumb);
    const badges = el("div", {});
    if (m.keeper) badges.append(el("span", { class: "badge suggested", text: "★ keeper" }));
    if (mark) badges.append(el("span", { class: "badge " + mark, text: mark.toUpperCase() }));
    figure.append(badges);
    const caption = el("figcaption", {});
    caption.append(el("div", { class: "path", text: named(img), title: named(img) }));
    caption.append(el("div", { class: "facts", text: facts(img) }));
    if (!m.keeper) {
      caption.append(el("div", { class: "scores",
        text: `similarity ${fmt(m.s)} · confidence ${fmt(m.c)}` + (m.e ? ` · ${m.e}` : "") }));
      if (m.v !== GROUPS[n].k) caption.append(el("div", { class: "scores", text: "matched " + named(IMAGES[m.v]) }));
      const diffs = el("div", { class: "diffs" });
      if (m.d && Array.isArray(m.d.kinds)) {
        for (const kind of m.d.kinds) diffs.append(el("span", { class: "chip diff", "data-kind": kind, text: kind }));
        const said = [m.d.summary, m.d.note].filter((t) => t).join(" · ");
        if (said) diffs.append(el("div", { class: "summary", text: said }));
      } else {
        for (const [kind, value] of Object.entries(m.d || {})) {
          if (!shown(value)) continue;
          const label = value === true ? kind :
            (value && typeof value === "object" ? `${kind} ${JSON.stringify(value)}` : `${kind} ${fmt(value, 2)}`);
          diffs.append(el("span", { class: "chip diff", "data-kind": kind, text: label }));
        }
      }
      caption.append(diffs);
    }
    figure.append(caption);
    const buttons = el("div", { class: "buttons" });
    buttons.append(el("button", { type: "button", "data-mark": "keep", text: "keep" }));
    buttons.append(el("button", { type: "button", "data-mark": "remove", text: "remove" }));
    if (!m.keeper) buttons.append(el("button", { type: "button", "data-compare": "1", text: "compare" }));
    figure.append(buttons);
    return figure;
  }

  function groupSection(n, position) {
    const g = GROUPS[n];
    const meta = META[n];
    const section = el("section", { class: "group", id: "g" + (n + 1), "data-g": String(n), "data-pos": String(position) });
    const head = el("header", {},
      el("span", { class: "gnum", text: `Group ${n + 1}` }),
      el("span", { text: `${g.m.length + 1} images` }),
      el("span", { text: `confidence ${fmt(meta.minC)}` + (meta.maxC > meta.minC ? `–${fmt(meta.maxC)}` : "") }),
      el("span", { text: `similarity ≥ ${fmt(meta.minS)}` }),
      el("span", { text: `${bytes(meta.free)} in the copies` }),
      el("button", { type: "button", "data-group": "accept", text: "accept suggestion (a)" }),
      el("button", { type: "button", "data-group": "clear", text: "clear (u)" }));
    section.append(head);
    const row = el("div", { class: "row" });
    members(n).forEach((m, i) => row.append(card(n, m, i)));
    section.append(row);
    return section;
  }

  function render() {
    const main = $("groups");
    main.replaceChildren();
    const shownGroups = onPage();
    if (!shownGroups.length) main.append(el("div", { class: "empty", text: "No group matches the filters." }));
    shownGroups.forEach((n, position) => main.append(groupSection(n, position)));
    $("page-info").textContent = `page ${page + 1} of ${pages()} · ${view.length} of ${GROUPS.length} groups`;
    updateDecided();
    applyFocus(false);
  }
  function updateDecided() {
    let groups = 0, keep = 0, remove = 0;
    for (const n of Object.keys(marks)) {
      groups += 1;
      for (const v of Object.values(marks[n])) v === "keep" ? keep++ : remove++;
    }
    $("decided").textContent = `${groups} groups decided: ${keep} keep, ${remove} remove`;
  }
  function refreshGroup(n) {
    const old = document.querySelector(`section.group[data-g="${n}"]`);
    if (!old) return;
    const fresh = groupSection(n, parseInt(old.dataset.pos, 10));
    old.replaceWith(fresh);
    updateDecided();
    applyFocus(false);
  }
  function applyFocus(scroll) {
    document.querySelectorAll(".focus").forEach((e) => e.classList.remove("focus"));
    const sections = document.querySelectorAll("section.group");
    if (!sections.length) return;
    focusGroup = Math.max(0, Math.min(focusGroup, sections.length - 1));
    const section = sections[focusGroup];
    section.classList.add("focus");
    const cards = section.querySelectorAll("figure.card");
    focusImage = Math.max(0, Math.min(focusImage, cards.length - 1));
    cards[focusImage].classList.add("focus");
    if (scroll) cards[focusImage].scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  function focused() {
    const section = document.querySelectorAll("section.group")[focusGroup];
    if (!section) return null;
    const n = parseInt(section.dataset.g, 10);
    const cardEl = section.querySelectorAll("figure.card")[focusImage];
    return { n, i: cardEl ? parseInt(cardEl.dataset.i, 10) : null };
  }
  function accept(n) {
    marks[n] = {};
    for (const m of members(n)) marks[n][m.i] = m.keeper ? "keep" : "remove";
    save();
  }
  function goPage(p, focusLast) {
    const next = Math.max(0, Math.min(p, pages() - 1));
    if (next === page) return false;
    page = next;
    focusGroup = focusLast ? pageSize() : 0;
    focusImage = 0;
    render();
    window.scrollTo(0, focusLast ? document.body.scrollHeight : 0);
    return true;
  }
  function refilter() {
    computeView();
    page = 0;
    focusGroup = 0;
    focusImage = 0;
    render();
  }

  // ---- compare: a copy and the image it matched, full size, side by side or in turn ----
  let flickerTimer = null;
  function pane(i, label) {
    const img = IMAGES[i];
    const src = FULL[i] || THUMBS[i];
    const box = el("div", { class: "pane", "data-i": String(i) });
    box.append(el("div", { class: "pane-label",
      text: `${label}: ${named(img)} · ${facts(img)}` }));
    const frame = el("div", { class: "pane-image" });
    const note = (text) => box.append(el("div", { class: "pane-note", text }));
    if (src) {
      const picture = el("img", { src, alt: named(img), "data-full": FULL[i] ? "1" : "0" });
      if (FULL[i]) {
        // Moved or deleted since the report was made, or the page opened elsewhere.
        picture.addEventListener("error", () => {
          picture.dataset.full = "0";
          if (THUMBS[i]) picture.src = THUMBS[i];
          note("thumbnail only: the file could not be read from this page");
        }, { once: true });
      }
      frame.append(picture);
    } else frame.append(el("div", { class: "missing", text: "no picture" }));
    box.append(frame);
    if (!FULL[i]) {
      note(isFrame(img)
        ? "a video frame: its thumbnail only"
        : "thumbnail only: the file is remote, not found here, or in a format browsers do not show");
    }
    return box;
  }
  function syncScroll(frames) {
    // At actual size both panes scroll together (to the same share of each picture). A pane
    // moved here fires its own scroll event later: it is told from the user's by the
    // position it was given, so the panes do not set each other back and forth.
    const given = new Map();
    for (const from of frames) {
      from.addEventListener("scroll", () => {
        const mine = given.get(from);
        if (mine && Math.abs(mine[0] - from.scrollLeft) < 1 && Math.abs(mine[1] - from.scrollTop) < 1) {
          given.delete(from);
          return;
        }
        const x = from.scrollLeft / Math.max(1, from.scrollWidth - from.clientWidth);
        const y = from.scrollTop / Math.max(1, from.scrollHeight - from.clientHeight);
        for (const to of frames) {
          if (to === from) continue;
          to.scrollLeft = x * (to.scrollWidth - to.clientWidth);
          to.scrollTop = y * (to.scrollHeight - to.clientHeight);
          given.set(to, [to.scrollLeft, to.scrollTop]);
        }
      });
    }
  }
  function openCompare(n, i) {
    const g = GROUPS[n];
    const member = g.m.find((m) => m.i === i) || g.m[0];
    if (!member) return;
    stopFlicker();
    const dialog = $("compare");
    dialog.classList.remove("flicker", "actual");
    $("cmp-title").textContent = `Group ${n + 1}: similarity ${fmt(member.s)} · confidence ${fmt(member.c)}`;
    const panes = $("cmp-panes");
    panes.replaceChildren(pane(member.v, member.v === g.k ? "keeper" : "matched"), pane(member.i, "copy"));
    syncScroll([...panes.querySelectorAll(".pane-image")]);
    dialog.showModal();
  }
  function stopFlicker() {
    if (flickerTimer !== null) clearInterval(flickerTimer);
    flickerTimer = null;
    $("compare").classList.remove("flicker");
  }
  function toggleFlicker() {
    if (flickerTimer !== null) { stopFlicker(); return; }
    const panes = $("cmp-panes");
    panes.dataset.showing = "0";
    $("compare").classList.add("flicker");
    flickerTimer = setInterval(() => {
      panes.dataset.showing = panes.dataset.showing === "0" ? "1" : "0";
    }, 700);
  }
  $("cmp-flicker").addEventListener("click", toggleFlicker);
  $("cmp-actual").addEventListener("click", () => $("compare").classList.toggle("actual"));
  $("cmp-close").addEventListener("click", () => $("compare").close());
  $("compare").addEventListener("close", stopFlicker);

  // ---- export ----
  function decisions() {
    const out = [];
    for (const key of Object.keys(marks).map(Number).sort((a, b) => a - b)) {
      const keep = [], remove = [];
      for (const m of members(key)) {
        const mark = markOf(key, m.i);
        if (!mark) continue;
        const img = IMAGES[m.i];
        const entry = { path: img.p, bytes: img.b };
        if (img.t !== undefined && img.t !== null) entry.mtime_ns = "#int:" + img.t;
        if (img.x) entry.blake2b = img.x;
        if (isFrame(img)) entry.frame = img.fr;
        (mark === "keep" ? keep : remove).push(entry);
      }
      out.push({ group: key + 1, keep, remove });
    }
    const doc = {
      schema: "neardup.decisions/1",
      neardup: DATA.neardup,
      result: DATA.result,
      cwd: DATA.cwd,
      folders: DATA.folders,
      made: new Date().toISOString(),
      groups: out,
    };
    // mtime_ns is a 64-bit integer: written as digits, not through a JavaScript number.
    return JSON.stringify(doc, null, 2).replace(/"#int:(-?\d+)"/g, "$1") + "\n";
  }
  function exportDecisions() {
    const blob = new Blob([decisions()], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: "decisions.json" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
  window.neardupDecisions = decisions;

  // ---- events ----
  for (const id of ["sort", "min-conf", "max-sim", "kind", "state", "page-size"]) $(id).addEventListener("change", refilter);
  $("search").addEventListener("input", refilter);
  for (const [id, step] of [["prev", -1], ["next", 1], ["prev2", -1], ["next2", 1]]) {
    $(id).addEventListener("click", () => goPage(page + step, false));
  }
  $("accept-page").addEventListener("click", () => {
    onPage().forEach(accept);
    render();
  });
  $("export").addEventListener("click", exportDecisions);
  $("groups").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const section = button.closest("section.group");
    const n = parseInt(section.dataset.g, 10);
    focusGroup = parseInt(section.dataset.pos, 10);
    if (button.dataset.compare) {
      const figure = button.closest("figure.card");
      focusImage = parseInt(figure.dataset.pos, 10);
      applyFocus(false);
      openCompare(n, parseInt(figure.dataset.i, 10));
      return;
    }
    if (button.dataset.group === "accept") accept(n);
    else if (button.dataset.group === "clear") { delete marks[n]; save(); }
    else if (button.dataset.mark) {
      const figure = button.closest("figure.card");
      const i = parseInt(figure.dataset.i, 10);
      focusImage = parseInt(figure.dataset.pos, 10);
      setMark(n, i, markOf(n, i) === button.dataset.mark ? "" : button.dataset.mark);
    }
    refreshGroup(n);
  });
  document.addEventListener("keydown", (event) => {
    if ($("compare").open) {
      // Esc is the dialog's own (it closes it); these are the view's keys. With a modifier
      // the key is the browser's (copy, find).
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "f") toggleFlicker();
      else if (event.key === "z") $("compare").classList.toggle("actual");
      else if (event.key === "c") $("compare").close();
      else return;
      event.preventDefault();
      return;
    }
    const target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const f = focused();
    const key = event.key;
    let handled = true;
    if (key === "j" || key === "ArrowDown") {
      if (focusGroup + 1 < onPage().length) { focusGroup += 1; focusImage = 0; applyFocus(true); }
      else goPage(page + 1, false);
    } else if (key === "k" || key === "ArrowUp") {
      if (focusGroup > 0) { focusGroup -= 1; focusImage = 0; applyFocus(true); }
      else goPage(page - 1, true);
    } else if (key === "l" || key === "ArrowRight") { focusImage += 1; applyFocus(true); }
    else if (key === "h" || key === "ArrowLeft") { focusImage = Math.max(0, focusImage - 1); applyFocus(true); }
    else if (key === "n" || key === "PageDown") goPage(page + 1, false);
    else if (key === "p" || key === "PageUp") goPage(page - 1, false);
    else if (f && key === "e") { setMark(f.n, f.i, "keep"); refreshGroup(f.n); }
    else if (f && (key === "r" || key === "x")) { setMark(f.n, f.i, "remove"); refreshGroup(f.n); }
    else if (f && key === " ") { setMark(f.n, f.i, markOf(f.n, f.i) === "keep" ? "remove" : "keep"); refreshGroup(f.n); }
    else if (f && key === "a") { accept(f.n); refreshGroup(f.n); }
    else if (key === "A") { onPage().forEach(accept); render(); }
    else if (f && key === "u") { delete marks[f.n]; save(); refreshGroup(f.n); }
    else if (key === "/") $("search").focus();
    else if (f && key === "c") openCompare(f.n, f.i);
    else if (key === "d") exportDecisions();
    else if (key === "?") $("help").open = !$("help").open;
    else handled = false;
    if (handled) event.preventDefault();
  });

  computeView();
  render();
  document.body.dataset.ready = "1";
})();
