// The local CoCalc's app-page script: on every app page it drops ?auth_token= from the address
// bar on the v1 generation (era 1's QueryParams.remove); on kiosk pages it runs CoCalc's
// postMessage bridge (frontend/iframe-communication.ts) with the same replies, texts and origin
// rules, and the project-log broadcasts of frontend/project_actions.ts.
(function () {
  "use strict";
  var node = document.getElementById("cocalc-kiosk-config");
  var config = node ? JSON.parse(node.textContent) : {};

  if (config.strip_auth_token && window.history && window.history.replaceState) {
    try {
      var u = new URL(window.location.href);
      if (u.searchParams.has("auth_token")) {
        u.searchParams.delete("auth_token");
        window.history.replaceState(window.history.state, "", u.pathname + u.search + u.hash);
      }
    } catch (e) { /* nothing to strip */ }
  }
  if (!config.kiosk) return;

  var hosts = config.allowed_hosts || []; // read once per page load, as CoCalc memoizes it
  var openFiles = {}; // project_id -> [paths], in the order they were opened
  var kioskProjectId = config.kiosk_project_id || null;
  var connection = { quality: "good", status: "connecting", status_time: null, ping: null };
  var state = { ready: false, replies: 0, received: 0 };
  window.__cocalcKiosk = state; // for tests: is the listener up, how much traffic did it see

  function isUuid(x) {
    return typeof x === "string" && x.length === 36 &&
      /[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}/i.test(x);
  }

  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // CoCalc's block_origin; plus, when the server allows it (local development only),
  // http parents on 127.0.0.1 or localhost with any port.
  function blockOrigin(origin) {
    if (origin.indexOf("http://") === 0) {
      if (!config.allow_http_parents) return true;
      var host;
      try { host = new URL(origin).hostname; } catch (e) { return true; }
      return !(host === "127.0.0.1" || host === "localhost");
    }
    for (var i = 0; i < hosts.length; i++) {
      var allowed = hosts[i];
      if (allowed.slice(0, 1) === ".") {
        if (endsWith(origin, allowed)) return false;
        if (endsWith(origin, "https://" + allowed.slice(1))) return false;
      } else if (endsWith(origin, "https://" + allowed)) {
        return false;
      }
    }
    return true;
  }

  function endsWith(s, suffix) {
    return s.length >= suffix.length && s.slice(s.length - suffix.length) === suffix;
  }

  function allOpenedFiles() {
    var out = {};
    Object.keys(openFiles).forEach(function (pid) {
      if (openFiles[pid].length > 0) out[pid] = openFiles[pid].slice();
    });
    return out;
  }

  // frontend/project_actions.ts posts this to the parent, with "*", whenever a file opens
  function projectLog(project_id, path) {
    if (window.parent === window) return function () {};
    var id = uuid4();
    var t0 = Date.now();
    window.parent.postMessage({
      source: "cocalc-project-log",
      payload: { project_log: {
        event: { event: "open", action: "open", filename: path, deleted: null, compute_server_id: 0 },
        project_id: project_id, time: new Date(), id: id } }
    }, "*");
    return function () {
      window.parent.postMessage({
        source: "cocalc-project-log",
        payload: { project_log: { event: { time: Date.now() - t0 }, project_id: project_id, id: id } }
      }, "*");
    };
  }

  function $(id) { return document.getElementById(id); }

  function show(path, html) {
    $("cocalc-file-title").textContent = path;
    // server-rendered, sanitised HTML; the page's CSP forbids inline scripts besides
    $("cocalc-file").innerHTML = html;
    $("cocalc-editor").hidden = false;
    var banner = $("cocalc-kiosk-banner");
    if (banner) banner.hidden = true;
  }

  function closeAll() {
    openFiles = {};
    $("cocalc-file").innerHTML = "";
    $("cocalc-file-title").textContent = "";
    $("cocalc-editor").hidden = true;
    var banner = $("cocalc-kiosk-banner");
    if (banner) banner.hidden = false;
  }

  function remember(project_id, path) {
    var list = openFiles[project_id] || (openFiles[project_id] = []);
    if (list.indexOf(path) < 0) list.push(path);
  }

  // null: signed out or no access. CoCalc never answers then (open_project never resolves).
  function fetchFile(project_id, path) {
    return fetch("/_local/kiosk/open", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ project_id: project_id, path: path })
    }).then(function (r) {
      if (r.status === 401 || r.status === 403) return null;
      return r.json();
    });
  }

  function handleOpen(data, reply) {
    var project_id = data.project_id, path = data.path, action = "open";
    if (!isUuid(project_id)) {
      reply({ status: "error", mesg: "invalid project_id='" + String(project_id) + "'" });
      return;
    }
    if (path == null || typeof path !== "string") {
      reply({ status: "error", mesg: "invalid path, it must be a string" });
      return;
    }
    kioskProjectId = project_id;
    fetchFile(project_id, path).then(function (res) {
      if (res === null) return; // silence, as in CoCalc
      reply({ status: "ack", action: action, path: path, project_id: project_id });
      if (res.error) {
        reply({ status: "error", action: action, path: path, project_id: project_id, mesg: "Error: " + res.error });
        return;
      }
      var logged = projectLog(project_id, path);
      remember(project_id, path);
      show(path, res.html);
      reply({ status: "done", action: action, path: path, project_id: project_id });
      setTimeout(logged, 50);
    }, function () { /* network failure: CoCalc would hang too */ });
  }

  function processMessage(mesg) {
    if (window == mesg.source) return; // our own messages
    state.received += 1;
    if (blockOrigin(mesg.origin)) return; // silently
    var data = mesg.data;
    var reply = function (r) {
      state.replies += 1;
      mesg.source.postMessage(r, mesg.origin);
    };
    if (data == null) {
      reply({ status: "error", mesg: 'There is no payload "data"' });
      return;
    }
    if (typeof data !== "object") {
      reply({ status: "error", mesg: 'The payload "data" must be an object' });
      return;
    }
    var action = data.action;
    switch (action) {
      case "open":
        handleOpen(data, reply);
        break;
      case "status":
        reply({ status: "done", connection: Object.assign({}, connection), open_files: allOpenedFiles() });
        break;
      case "closeall":
        try {
          closeAll();
          reply({ status: "done", mesg: "all files are closed" });
        } catch (err) {
          reply({ status: "error", mesg: String(err) });
        }
        break;
      default:
        var err = "Unknown action '" + String(action) + "'";
        console.warn(err);
        reply({ status: "error", mesg: err });
    }
  }

  window.addEventListener("message", processMessage, false);
  state.ready = true;

  // Kiosk mode asks for fullscreen at startup, as CoCalc's set_fullscreen("kiosk") does. Without a
  // user gesture, or in an IFrame without allow="fullscreen", this fails harmlessly.
  try {
    var fs = document.documentElement.requestFullscreen && document.documentElement.requestFullscreen();
    if (fs && fs.catch) fs.catch(function () {});
  } catch (e) { /* not allowed */ }

  // the "connection" of the status reply: connected once the server answered
  var t0 = Date.now();
  fetch("/_local/kiosk/hello", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function () {
    connection.status = "connected";
    connection.status_time = new Date();
    connection.ping = Date.now() - t0;
  }, function () {
    connection.status = "disconnected";
    connection.status_time = new Date();
  });

  // v1: the URL's file was rendered into the page by the server and counts as opened
  if (config.initial) {
    remember(config.initial.project_id, config.initial.path);
    setTimeout(projectLog(config.initial.project_id, config.initial.path), 50);
  }
})();
