/* Chorus conversions snippet: first-party, no cookies sent anywhere else.
 *
 * On every page: if the address carries chorus_click or utm_* parameters (a visitor
 * arriving from a Chorus short link), remember them in this site's localStorage for the
 * attribution window. On the thank-you page:
 *   (window.chorusq = window.chorusq || []).push(["conversion",
 *       {order_id: "1234", value: 25.5, currency: "THB"}]);
 * sends the conversion with what was remembered to Chorus (data-endpoint), identified by
 * the workspace's site key (data-key), which can only record conversions.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var key = script.getAttribute("data-key") || "";
  var endpoint = script.getAttribute("data-endpoint") ||
    new URL("/t/conversion", script.src).toString();
  var days = parseInt(script.getAttribute("data-days") || "90", 10);
  var STORE = "chorus_attribution";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_content"];

  function remembered() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE) || "null");
      if (saved && saved.until > Date.now()) { return saved; }
    } catch (e) { /* storage off or garbled: nothing remembered */ }
    return {click: "", utm: {}};
  }

  function rememberLanding() {
    var params = new URLSearchParams(window.location.search);
    var click = params.get("chorus_click") || "";
    var utm = {};
    var any = false;
    UTM.forEach(function (name) {
      var value = params.get(name);
      if (value) { utm[name] = value.slice(0, 100); any = true; }
    });
    if (!click && !any) { return; }
    var saved = {click: click.slice(0, 32), utm: utm, until: Date.now() + days * 86400000};
    try { window.localStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* off */ }
  }

  function conversion(details) {
    details = details || {};
    var saved = remembered();
    var body = JSON.stringify({
      key: key,
      order_id: String(details.order_id || ""),
      value: details.value === undefined ? 0 : details.value,
      currency: String(details.currency || ""),
      click: saved.click || "",
      utm: saved.utm || {}
    });
    return window.fetch(endpoint, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      keepalive: true,
      headers: {"Content-Type": "text/plain;charset=UTF-8"},
      body: body
    }).then(function (response) { return response.json(); });
  }

  rememberLanding();
  var queue = window.chorusq || [];
  var api = {
    push: function (command) {
      if (command && command[0] === "conversion") { return conversion(command[1]); }
      return undefined;
    },
    conversion: conversion
  };
  window.chorusq = api;
  queue.forEach(function (command) { api.push(command); });
})();
