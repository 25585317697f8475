/* Every page: when its figures can no longer be fetched, say so at once, over the numbers, and recover by itself.
   Watches the Dash callbacks' requests (…/_dash-update-component): an answer of 401 (the login or the display
   link ended) shows "Not updating since HH:MM — log in again" with a link; a request that cannot reach the
   server, a 502/503/504 from a proxy in front of it, or one left unanswered for HANG_MS, shows "Server not
   reachable"; the next answer that
   succeeds takes the notice away. Served from the dashboard's own assets (the Content-Security-Policy allows
   no inline script). */
(function () {
  "use strict";
  var HANG_MS = 15000;
  var lastOk = null;
  var box = null;
  var pending = {};
  var counter = 0;

  function hhmm(d) {
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function notice(kind, why) {
    if (!document.body) { return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "stale-notice";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    var since = lastOk ? "Not updating since " + hhmm(lastOk) : "Not updating";
    box.textContent = "";
    box.className = "stale-notice stale-" + kind;
    if (kind === "login") {
      var here = window.location.pathname + window.location.search;
      box.appendChild(document.createTextNode(since + " \u2014 " + (why === "display" ?
        "this display link was removed; " : "your session has ended; ")));
      var a = document.createElement("a");
      a.href = "/login?next=" + encodeURIComponent(here);
      a.id = "stale-login";
      a.textContent = "log in again";
      box.appendChild(a);
    } else {
      box.appendChild(document.createTextNode(since + " \u2014 server not reachable; retrying"));
    }
    box.hidden = false;
    document.body.classList.add("is-stale");
  }

  function fine() {
    lastOk = new Date();
    if (box && !box.hidden) {
      box.hidden = true;
      document.body.classList.remove("is-stale");
    }
  }

  var original = window.fetch;
  if (!original) { return; }
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var answer = original.apply(this, arguments);
    if (String(url).indexOf("_dash-update-component") === -1) { return answer; }
    var mine = ++counter;
    pending[mine] = Date.now();
    answer.then(function () { delete pending[mine]; }, function () { delete pending[mine]; });
    return answer.then(function (response) {
      if (response.status === 401) {
        notice("login", response.headers.get("X-Tracker-Ended"));
      } else if (response.status === 502 || response.status === 503 || response.status === 504) {
        notice("unreachable");
      } else if (response.ok) {
        fine();
      }
      return response;
    }, function (error) {
      notice("unreachable");
      throw error;
    });
  };

  window.setInterval(function () {  // a server that takes the request and never answers
    var now = Date.now();
    for (var key in pending) {
      if (now - pending[key] > HANG_MS) { notice("unreachable"); return; }
    }
  }, 1000);
})();
