// Send a VOTable to TOPCAT, Aladin or any SAMP client, through the SAMP Web Profile (IVOA SAMP
// 1.3, section 5): the page registers with the hub on localhost:21012 (which asks the user to
// accept it), broadcasts table.load.votable with the table's URL, and unregisters.
//
// Markup: <button class="samp-send" data-votable="ABSOLUTE URL" data-name="TABLE NAME">, and an
// element with class "samp-status" after it for the outcome.
(function () {
  "use strict";
  const HUB = "http://localhost:21012/";

  function escapeXml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // JavaScript strings, arrays and plain objects → XML-RPC <value> (all SAMP needs).
  function toXml(value) {
    if (Array.isArray(value)) {
      return "<value><array><data>" + value.map(toXml).join("") + "</data></array></value>";
    }
    if (value !== null && typeof value === "object") {
      return "<value><struct>" + Object.keys(value).map(function (key) {
        return "<member><name>" + escapeXml(key) + "</name>" + toXml(value[key]) + "</member>";
      }).join("") + "</struct></value>";
    }
    return "<value><string>" + escapeXml(value) + "</string></value>";
  }

  // An XML-RPC <value> element → strings, arrays and objects.
  function fromXml(node) {
    const typed = Array.prototype.find.call(node.childNodes, function (child) { return child.nodeType === 1; });
    if (!typed) return node.textContent;
    if (typed.nodeName === "array") {
      const data = typed.getElementsByTagName("data")[0];
      return Array.prototype.filter.call(data.childNodes, function (child) { return child.nodeName === "value"; })
        .map(fromXml);
    }
    if (typed.nodeName === "struct") {
      const out = {};
      Array.prototype.filter.call(typed.childNodes, function (child) { return child.nodeName === "member"; })
        .forEach(function (member) {
          const name = member.getElementsByTagName("name")[0].textContent;
          const value = Array.prototype.find.call(member.childNodes, function (child) { return child.nodeName === "value"; });
          out[name] = fromXml(value);
        });
      return out;
    }
    return typed.textContent;
  }

  function call(method, params) {
    const body = '<?xml version="1.0"?><methodCall><methodName>' + method + "</methodName><params>" +
      params.map(function (param) { return "<param>" + toXml(param) + "</param>"; }).join("") + "</params></methodCall>";
    return fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body: body })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        const xml = new DOMParser().parseFromString(text, "text/xml");
        const fault = xml.getElementsByTagName("fault")[0];
        if (fault) {
          const detail = fromXml(fault.getElementsByTagName("value")[0]);
          throw new Error(detail.faultString || "the hub refused " + method);
        }
        const value = xml.querySelector("params > param > value");
        return value ? fromXml(value) : null;
      });
  }

  // Register, broadcast table.load.votable, unregister; resolves to the ids of the clients reached.
  function sendVOTable(url, name) {
    return call("samp.webhub.register", [{ "samp.name": "Doppel" }]).then(function (registration) {
      const key = registration["samp.private-key"];
      const message = { "samp.mtype": "table.load.votable", "samp.params": { url: url, "table-id": url, name: name } };
      return call("samp.webhub.declareMetadata", [key, { "samp.name": "Doppel", "samp.description.text": "Chemical twins catalog" }])
        .then(function () { return call("samp.webhub.notifyAll", [key, message]); })
        .then(function (recipients) {
          return call("samp.webhub.unregister", [key]).then(function () { return recipients || []; });
        }, function (error) {
          return call("samp.webhub.unregister", [key]).then(function () { throw error; });
        });
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest(".samp-send") : null;
    if (!button) return;
    const status = button.parentNode.querySelector(".samp-status");
    const say = function (text) { if (status) status.textContent = text; };
    say("asking the SAMP hub (accept Doppel in its dialog)…");
    sendVOTable(button.dataset.votable, button.dataset.name || "Doppel table").then(function (recipients) {
      say(recipients.length ? "sent to " + recipients.length + " SAMP client" + (recipients.length > 1 ? "s" : "") + "."
        : "the hub has no client that loads VOTables: start TOPCAT or Aladin.");
    }, function (error) {
      say(error instanceof TypeError
        ? "no SAMP hub answered on localhost:21012: start TOPCAT or Aladin (each runs a hub), then try again."
        : "SAMP: " + error.message);
    });
  });

  window.DoppelSAMP = { sendVOTable: sendVOTable };
})();
