// The CoCalc panel's browser side (anywidget ESM). Python fetches, this file renders:
// projects (virtualised, filtered here as the user types), files, and the kiosk IFrame driven by
// CoCalc's postMessage protocol (open / closeall / status). Every reply from the IFrame is relayed
// to Python as a custom message; the auth token arrives only in the "embed" custom message and is
// never written into the model. Where the kiosk cannot be signed in, Python sends a "rendered"
// message instead: the file as one sanitized HTML page (in a buffer), shown in a sandboxed frame
// that runs no scripts and has an opaque origin, so nothing from the file runs in this page.

const ROW_H = 30; // px, fixed so the project list can render only the visible rows

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function ago(iso) {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (isNaN(t)) return iso;
  const s = (Date.now() - t) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.floor(s / 86400)} d ago`;
  return new Date(t).toLocaleDateString();
}

// Rows act as buttons for the keyboard too (Tab to reach, Enter or Space to choose).
function clickable(row) {
  row.tabIndex = 0;
  row.setAttribute("role", "button");
  row.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      row.click();
    }
  });
  return row;
}

// A list that keeps only the rows in (and near) the viewport in the DOM, for 10,000+ items.
function virtualList(scroller, renderRow) {
  const spacer = h("div", "ccp-vspacer");
  const win = h("div", "ccp-vwindow");
  spacer.append(win);
  scroller.append(spacer);
  let items = [];
  let queued = false;
  function draw() {
    queued = false;
    const view = scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - 4);
    const last = Math.min(items.length, Math.ceil((scroller.scrollTop + view) / ROW_H) + 4);
    spacer.style.height = `${items.length * ROW_H}px`;
    win.style.transform = `translateY(${first * ROW_H}px)`;
    const rows = [];
    for (let i = first; i < last; i++) rows.push(renderRow(items[i], i));
    win.replaceChildren(...rows);
  }
  const later = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(draw);
    }
  };
  scroller.addEventListener("scroll", later);
  const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(later) : null;
  if (ro) ro.observe(scroller);
  return {
    set(newItems) {
      items = newItems;
      if (scroller.scrollTop > items.length * ROW_H) scroller.scrollTop = 0;
      draw();
    },
    redraw: draw,
    dispose() {
      if (ro) ro.disconnect();
    },
  };
}

function render({ model, el }) {
  const viewId = Math.random().toString(36).slice(2, 10);
  const send = (msg) => model.send({ ...msg, view: viewId });
  const timers = new Set();
  const later = (fn, ms) => {
    const id = setTimeout(() => {
      timers.delete(id);
      fn();
    }, ms);
    timers.add(id);
    return id;
  };
  const cancel = (id) => {
    if (id) {
      clearTimeout(id);
      timers.delete(id);
    }
  };

  // ------------------------------------------------------------------ layout
  const root = h("div", "ccp-root");
  el.append(root);
  const header = h("div", "ccp-header");
  const hostLabel = h("span", "ccp-host");
  const showAll = h("label", "ccp-showall-label");
  const showAllBox = h("input", "ccp-showall");
  showAllBox.type = "checkbox";
  showAll.append(showAllBox, document.createTextNode(" show all"));
  const refreshBtn = h("button", "ccp-btn ccp-btn-refresh", "Refresh");
  header.append(hostLabel, showAll, refreshBtn);

  const body = h("div", "ccp-body");
  const side = h("div", "ccp-side");
  const filter = h("input", "ccp-filter");
  filter.type = "search";
  filter.placeholder = "Filter projects…";
  const count = h("div", "ccp-count");
  const projScroller = h("div", "ccp-projects");
  const filesBox = h("div", "ccp-files");
  side.append(filter, count, projScroller, filesBox);

  const main = h("div", "ccp-main");
  const toolbar = h("div", "ccp-toolbar");
  const fileLabel = h("span", "ccp-openfile", "No file open");
  const statusBtn = h("button", "ccp-btn ccp-btn-status", "Status");
  const closeBtn = h("button", "ccp-btn ccp-btn-closeall", "Close all");
  const reloadBtn = h("button", "ccp-btn ccp-btn-reload", "Refresh");
  reloadBtn.title = "Read the file again";
  reloadBtn.hidden = true;
  const newTab = h("a", "ccp-newtab", "Open in new tab ↗");
  newTab.target = "_blank";
  newTab.rel = "noopener noreferrer";
  newTab.hidden = true;
  const heightLabel = h("label", "ccp-height-label", "height ");
  const heightInput = h("input", "ccp-height");
  heightInput.type = "number";
  heightInput.min = "200";
  heightInput.step = "50";
  heightLabel.append(heightInput);
  toolbar.append(fileLabel, reloadBtn, statusBtn, closeBtn, newTab, heightLabel);
  const notice = h("div", "ccp-notice");
  notice.hidden = true;
  const holder = h("div", "ccp-holder");
  const placeholder = h("div", "ccp-placeholder", "Choose a notebook to open it here.");
  const NO_FILE = "No file open";
  holder.append(placeholder);
  const hint = h("div", "ccp-hint");
  main.append(toolbar, notice, holder, hint);
  body.append(side, main);
  const statusLine = h("div", "ccp-status");
  root.append(header, body, statusLine);

  // ------------------------------------------------------------------ projects
  let allProjects = [];
  let haystack = [];
  let shown = [];
  const list = virtualList(projScroller, (p) => {
    const row = h("div", "ccp-project");
    if (p.project_id === model.get("project_id")) row.classList.add("ccp-selected");
    row.dataset.projectId = p.project_id;
    row.title = `${p.title}\n${p.description || ""}\n${p.project_id}`;
    const title = h("span", "ccp-ptitle", p.title || "(untitled)");
    const state = h("span", `ccp-pstate ccp-state-${p.state || "unknown"}`, p.state || "");
    const when = h("span", "ccp-pwhen", ago(p.last_edited));
    when.title = p.last_edited || "never edited";
    row.append(title, state, when);
    row.addEventListener("click", () => choose(p));
    return clickable(row);
  });

  function choose(p) {
    send({ kind: "select", project_id: p.project_id, path: "" });
    model.set("project_id", p.project_id);
    list.redraw();
  }
  function applyFilter() {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) shown = allProjects;
    else {
      shown = [];
      for (let i = 0; i < allProjects.length; i++) {
        const hay = haystack[i];
        if (words.every((w) => hay.includes(w))) shown.push(allProjects[i]);
      }
    }
    count.textContent =
      shown.length === allProjects.length
        ? `${allProjects.length} project${allProjects.length === 1 ? "" : "s"}`
        : `${shown.length} of ${allProjects.length} projects`;
    list.set(shown);
  }
  function loadProjects() {
    allProjects = model.get("projects") || [];
    haystack = allProjects.map((p) => `${p.title} ${p.description || ""} ${p.project_id}`.toLowerCase());
    applyFilter();
  }
  filter.addEventListener("input", applyFilter);
  filter.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && shown.length) choose(shown[0]); // Enter takes the first match
  });
  showAllBox.addEventListener("change", () => {
    model.set("show_all", showAllBox.checked);
    model.save_changes();
  });
  refreshBtn.addEventListener("click", () => send({ kind: "refresh" }));

  // ------------------------------------------------------------------ files
  function renderFiles() {
    const pid = model.get("project_id");
    const files = model.get("files") || [];
    const cwd = model.get("cwd") || "";
    filesBox.replaceChildren();
    if (!pid) return;
    const crumbs = h("div", "ccp-crumbs");
    const parts = cwd ? cwd.split("/") : [];
    const go = (path) => send({ kind: "select", project_id: pid, path });
    const rootCrumb = h("a", "ccp-crumb", model.get("project_title") || pid.slice(0, 8));
    rootCrumb.addEventListener("click", () => go(""));
    crumbs.append(rootCrumb);
    parts.forEach((part, i) => {
      const c = h("a", "ccp-crumb", part);
      c.addEventListener("click", () => go(parts.slice(0, i + 1).join("/")));
      crumbs.append(document.createTextNode(" / "), c);
    });
    filesBox.append(crumbs);
    if (cwd) {
      const up = h("div", "ccp-file ccp-dir ccp-up", "↑ ..");
      up.addEventListener("click", () => go(parts.slice(0, -1).join("/")));
      filesBox.append(clickable(up));
    }
    if (!files.length) filesBox.append(h("div", "ccp-empty", "(empty folder)"));
    for (const f of files) {
      const kind = f.isdir ? "ccp-dir" : f.notebook ? "ccp-notebook" : "ccp-other";
      const row = h("div", `ccp-file ${kind}`);
      row.dataset.name = f.name;
      const icon = f.isdir ? "▸" : f.notebook ? "●" : "·"; // plain glyphs: emoji fonts are often missing
      row.append(h("span", "ccp-ficon", icon), h("span", "ccp-fname", f.name + (f.isdir ? "/" : "")));
      const path = cwd ? `${cwd}/${f.name}` : f.name;
      row.addEventListener("click", () => {
        if (f.isdir) go(path);
        else send({ kind: "open", project_id: pid, path });
      });
      filesBox.append(clickable(row));
    }
  }

  // ------------------------------------------------------------------ the kiosk frame + protocol
  let frame = null;
  let origin = "";
  let kioskUrl = "";
  let stage = "idle"; // idle | signin | kiosk | rendered
  let viewFrame = null; // the read-only view (sandboxed, srcdoc)
  let closing = false; // a closeall was posted: its "done" closes the file in the labels too
  let opening = false; // an open was posted and has not said done (or error) yet
  let gotStatus = false; // the frame's protocol answered since its last load
  let signedIn = false; // an open was acknowledged since the last load
  let pending = null; // {project_id, path} to open once the protocol answers
  let queued = []; // Python's posts that arrived before the protocol answered
  let pollTimer = null;
  let gaveUp = false; // no status reply within status_timeout since the last load
  let statusTimer = null;
  let ackTimer = null;
  const secs = (name, dflt) => (Number(model.get(name)) > 0 ? Number(model.get(name)) : dflt);

  function ensureView() {
    if (viewFrame) return viewFrame;
    viewFrame = h("iframe", "ccp-view");
    viewFrame.title = "The file, read-only";
    // No allow-scripts and no allow-same-origin: an opaque origin where nothing runs. Links open
    // in a new tab (the page has <base target="_blank">), outside the sandbox.
    viewFrame.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
    viewFrame.setAttribute("referrerpolicy", "no-referrer");
    placeholder.remove();
    holder.append(viewFrame);
    return viewFrame;
  }
  function setFile(path, link, linkText) {
    fileLabel.textContent = path || NO_FILE;
    newTab.textContent = linkText || "Open in new tab ↗";
    if (link) newTab.href = link;
    newTab.hidden = !link;
  }
  function markClosed() {
    // the file is closed: no label, link or hint may still name it
    pending = null;
    closing = false;
    setFile("", null);
    hint.textContent = "";
    reloadBtn.hidden = true;
    statusBtn.hidden = false;
    if (viewFrame) {
      viewFrame.hidden = true;
      viewFrame.srcdoc = "";
    }
    if (stage === "rendered") stage = "idle";
    if (!frame || frame.hidden) {
      placeholder.textContent = `${NO_FILE}: choose a notebook to open it here.`;
      holder.append(placeholder);
    }
    send({ kind: "event", event: "closed" });
  }
  function showRendered(msg, buffers) {
    stopTimers();
    cancel(ackTimer);
    ackTimer = null;
    if (frame) {
      frame.hidden = true;
      stage = "idle";
      frame.removeAttribute("src"); // a hidden kiosk must not keep polling or opening files
      gotStatus = signedIn = false;
    }
    stage = "rendered";
    pending = null;
    const buf = buffers && buffers[0];
    const page = buf ? new TextDecoder().decode(buf) : "";
    const v = ensureView();
    v.hidden = false;
    v.srcdoc = page;
    setFile(msg.path, msg.new_tab_url, "Open in CoCalc ↗");
    reloadBtn.hidden = false;
    statusBtn.hidden = true; // no live frame to ask
    hint.textContent = "";
    if (msg.notice) showNotice(msg.notice, null);
  }

  function ensureFrame() {
    if (frame) return frame;
    frame = h("iframe", "ccp-frame");
    frame.title = "CoCalc (kiosk mode)";
    // Deliberately no fullscreen permission (no allow attribute): kiosk mode would take over the page.
    frame.addEventListener("load", onLoad);
    placeholder.remove();
    holder.append(frame);
    return frame;
  }
  function stopTimers() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    cancel(statusTimer);
    statusTimer = null;
  }
  function showNotice(text, link) {
    notice.replaceChildren(h("span", "ccp-notice-text", text));
    if (link) {
      const a = h("a", "ccp-notice-link", "Open in new tab ↗");
      a.href = link;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      notice.append(" ", a);
    }
    notice.hidden = false;
  }
  function post(data) {
    // never "*": only the CoCalc origin may read it
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(data, origin);
  }
  function postOpen(p) {
    post({ action: "open", project_id: p.project_id, path: p.path });
    opening = true;
    cancel(ackTimer);
    const wait = secs("ack_timeout", 10);
    ackTimer = later(() => {
      ackTimer = null;
      showNotice("CoCalc did not open the file: signed out, or no access to the project.", newTab.href);
      send({ kind: "event", event: "no_ack", path: p.path, seconds: wait });
    }, wait * 1000);
  }
  function startPolling() {
    stopTimers();
    gotStatus = false;
    signedIn = false;
    gaveUp = false;
    const t0 = performance.now();
    const poll = () => post({ action: "status" });
    poll();
    pollTimer = setInterval(poll, secs("poll_interval", 0.75) * 1000);
    const wait = secs("status_timeout", 18);
    statusTimer = later(() => {
      stopTimers();
      gaveUp = true;
      showNotice("CoCalc's IFrame protocol does not answer this page.", newTab.href);
      send({
        kind: "event",
        event: "no_status",
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        parent_origin: window.location.origin,
        path: pending && pending.path,
      });
    }, wait * 1000);
  }
  function onLoad() {
    if (stage === "signin") {
      // /auth/impersonate has set the cookie: now the kiosk page (current CoCalc ignores ?auth_token).
      stage = "kiosk";
      frame.src = kioskUrl;
      return;
    }
    if (stage === "kiosk") startPolling();
  }
  function embed(msg) {
    ensureFrame();
    const target = { project_id: msg.project_id, path: msg.path };
    const newOrigin = msg.origin || new URL(msg.kiosk_url).origin;
    setFile(msg.path, msg.new_tab_url || msg.kiosk_url);
    reloadBtn.hidden = true;
    statusBtn.hidden = false;
    notice.hidden = true;
    if (viewFrame) viewFrame.hidden = true;
    placeholder.remove();
    frame.hidden = false;
    if (stage === "kiosk" && gotStatus && signedIn && newOrigin === origin && frame.src) {
      pending = target; // a live, signed-in frame: switch files with another open, no reload
      postOpen(target);
      return;
    }
    stopTimers();
    cancel(ackTimer);
    origin = newOrigin;
    kioskUrl = msg.kiosk_url;
    pending = target;
    gotStatus = signedIn = gaveUp = opening = false;
    if (msg.signin_url && msg.signin_first) {
      stage = "signin";
      frame.src = msg.signin_url;
    } else {
      stage = "kiosk";
      // Legacy: ?auth_token= on the kiosk URL itself. The token then stays in this element's src
      // attribute (DOM only, never in the model); navigating with location.replace instead would
      // leave src blank, and Lab reloads an iframe from src when it re-attaches an output.
      frame.src = msg.signin_url || msg.kiosk_url;
    }
  }
  function onMessage(e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
    const d = e.data;
    if (d && typeof d === "object" && d.source === "cocalc-project-log") {
      const ev = d.payload && d.payload.project_log && d.payload.project_log.event;
      if (ev && ev.filename) hint.textContent = `CoCalc opened ${ev.filename}`;
      return; // a broadcast, not a reply
    }
    if (!d || typeof d !== "object" || !("status" in d)) return;
    if (!gotStatus) {
      gotStatus = true;
      stopTimers();
      send({ kind: "reply", data: d, poll: true });
      if (pending) postOpen(pending); // CoCalc's kiosk race: the URL's file never opens by itself
      const q = queued;
      queued = [];
      q.forEach(post);
      return;
    }
    // open's own answers; its argument errors ("invalid project_id=…") carry no action field
    if ((d.action === "open" && (d.status === "ack" || d.status === "done")) || (d.status === "error" && ackTimer)) {
      cancel(ackTimer);
      ackTimer = null;
      if (d.status !== "error") {
        signedIn = true;
        notice.hidden = true;
      }
      if (d.status !== "ack") opening = false;
    }
    send({ kind: "reply", data: d });
    if (closing && d.status === "done" && !d.action && !("open_files" in d)) markClosed();
    else if (d.status === "done" && d.open_files && pending && signedIn && !ackTimer && !opening) {
      // a status snapshot without the shown file: it was closed (inside CoCalc, say)
      const files = (d.open_files[pending.project_id] || []).map((p) => String(p).replace(/^\/+/, ""));
      if (!files.includes(pending.path)) markClosed();
    }
  }
  window.addEventListener("message", onMessage);

  function postFromPython(data) {
    if (data && data.action === "closeall") closing = true;
    if (!frame || stage === "idle" || stage === "rendered") {
      send({ kind: "event", event: "no_frame" });
      return;
    }
    if (!gotStatus && !gaveUp) queued.push(data); // still waiting for the first status reply
    else post(data); // ready, or gave up waiting: try anyway, a reply is relayed if one comes
  }
  statusBtn.addEventListener("click", () => postFromPython({ action: "status" }));
  closeBtn.addEventListener("click", () => {
    if (stage === "rendered") send({ kind: "closeall" }); // Python closes the read-only view
    else postFromPython({ action: "closeall" });
  });
  reloadBtn.addEventListener("click", () => send({ kind: "reload" }));

  let fallback = null; // see the end of render()
  function onCustom(msg, buffers) {
    if (!msg || typeof msg !== "object") return;
    if (msg.for_view && msg.for_view !== viewId) return; // meant for another view of this panel
    if (msg.kind === "embed" || msg.kind === "blocked" || msg.kind === "rendered") {
      cancel(fallback);
      fallback = null;
    }
    if (msg.kind === "embed") embed(msg);
    else if (msg.kind === "rendered") showRendered(msg, buffers);
    else if (msg.kind === "closed") markClosed();
    else if (msg.kind === "post") postFromPython(msg.data);
    else if (msg.kind === "blocked") {
      if (frame) frame.hidden = true;
      if (viewFrame) viewFrame.hidden = true;
      stopTimers();
      setFile(msg.path, msg.new_tab_url);
      showNotice(msg.reason, msg.new_tab_url);
    }
  }
  model.on("msg:custom", onCustom);

  // ------------------------------------------------------------------ traits → DOM
  function syncHeader() {
    hostLabel.textContent = model.get("host") ? `${model.get("host")} (${model.get("api") || "?"})` : "CoCalc";
    showAllBox.checked = !!model.get("show_all");
    root.classList.toggle("ccp-loading", !!model.get("loading"));
  }
  function syncMode() {
    root.classList.toggle("ccp-mode-view", model.get("mode") === "view");
  }
  function syncHeight() {
    const px = Math.max(200, Number(model.get("height")) || 600);
    holder.style.height = `${px}px`;
    projScroller.style.maxHeight = `${Math.max(160, Math.round(px * 0.5))}px`;
    if (document.activeElement !== heightInput) heightInput.value = String(px);
  }
  heightInput.addEventListener("change", () => {
    const px = Math.max(200, Math.round(Number(heightInput.value) || 600));
    model.set("height", px);
    model.save_changes();
  });
  const syncStatus = () => (statusLine.textContent = model.get("status_line") || "");

  model.on("change:projects", loadProjects);
  model.on("change:project_id", () => list.redraw());
  model.on("change:files", renderFiles);
  model.on("change:cwd", renderFiles);
  model.on("change:project_title", renderFiles);
  model.on("change:host", syncHeader);
  model.on("change:api", syncHeader);
  model.on("change:show_all", syncHeader);
  model.on("change:loading", syncHeader);
  model.on("change:mode", syncMode);
  model.on("change:height", syncHeight);
  model.on("change:status_line", syncStatus);
  syncHeader();
  syncMode();
  syncHeight();
  syncStatus();
  loadProjects();
  renderFiles();

  // Python answers "hello" with what this view must show (a fresh token of its own). Without a
  // live kernel (a saved widget state) nothing comes: then show the open file without a token,
  // which works when the browser's CoCalc cookie from an earlier sign-in still applies.
  send({ kind: "hello", origin: window.location.origin });
  const opened = model.get("opened") || {};
  if (opened.view === "rendered") {
    // the read-only page is never saved with the notebook: it needs the kernel to read the file
    placeholder.textContent = `Read-only view of ${opened.path}: run the cell again to show it.`;
    setFile(opened.path, opened.new_tab_url, "Open in CoCalc ↗");
  }
  if (opened.kiosk_url) {
    fallback = later(() => {
      fallback = null;
      if (stage === "idle" && opened.view !== "rendered") embed({ ...opened, signin_url: null, new_tab_url: opened.kiosk_url });
    }, 3000);
  }

  return () => {
    window.removeEventListener("message", onMessage);
    model.off("msg:custom", onCustom);
    stopTimers();
    timers.forEach((id) => clearTimeout(id));
    list.dispose();
    try {
      send({ kind: "bye" });
    } catch (err) {
      /* the comm may be gone already */
    }
  };
}

export default { render };
