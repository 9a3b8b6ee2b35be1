// Live result list: new decisions that match the page's filter are put at the top as they are made.
// Reads the SSE stream named by #result-list[data-live] (the API's /api/v1/decisions/stream with the
// same filter). The page works without this script: the list is server-rendered, and reloading it shows
// the new decisions. Built with textContent only: nothing from an event is ever parsed as HTML.
(function () {
  "use strict";
  var source = null;

  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (value !== undefined && value !== null) el.textContent = value;
    return el;
  }

  function card(list, ev) {
    var outcomes = JSON.parse(list.dataset.outcomes || "{}");
    var position = String(ev.item_id).split(":").pop();
    var article = text("article", "decision live-new");
    article.dataset.eventId = ev.event_id;
    var h3 = text("h3");
    var link = text("a", null, ev.item_number + ". " + ev.item_title);
    link.href = "/meetings/" + encodeURIComponent(ev.document_id) + "#item-" + encodeURIComponent(position);
    h3.appendChild(text("span", "badge live-badge", ev.event === "DecisionRevised" ? list.dataset.revisedLabel : list.dataset.newLabel));
    h3.appendChild(document.createTextNode(" "));
    h3.appendChild(link);
    article.appendChild(h3);
    var meta = text("p", "meta");
    meta.appendChild(text("span", null, ev.municipality || "–"));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(text("span", null, ev.committee || "–"));
    meta.appendChild(document.createTextNode(" · "));
    var time = text("time", null, ev.meeting_date || "–");
    if (ev.meeting_date) time.setAttribute("datetime", ev.meeting_date);
    meta.appendChild(time);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(text("span", "badge outcome-" + ev.outcome, outcomes[ev.outcome] || ev.outcome));
    article.appendChild(meta);
    var body = text("div", "decision-text");
    body.appendChild(text("p", null, ev.decision_text));
    article.appendChild(body);
    var li = document.createElement("li");
    li.appendChild(article);
    return li;
  }

  function bind() {
    if (source) { source.close(); source = null; }
    var list = document.getElementById("result-list");
    if (!list || !list.dataset.live || !window.EventSource) return;
    source = new EventSource(list.dataset.live);
    var onEvent = function (message) {
      var ev;
      try { ev = JSON.parse(message.data); } catch (e) { return; }
      if (list.querySelector('[data-event-id="' + CSS.escape(ev.event_id) + '"]')) return;
      list.insertBefore(card(list, ev), list.firstChild);
    };
    // The server says where it starts reading: from here on nothing published is missed.
    source.addEventListener("listening", function () { list.dataset.liveState = "listening"; });
    source.addEventListener("DecisionMade", onEvent);
    source.addEventListener("DecisionRevised", onEvent);
  }

  document.addEventListener("DOMContentLoaded", bind);
  // A live search (htmx) replaces the result list: follow the new filter.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && (e.target.id === "results" || e.target.querySelector && e.target.querySelector("#result-list"))) bind();
  });
})();
