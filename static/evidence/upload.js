/* Drag-and-drop, several files at once, one progress bar per file.
 *
 * Progressive enhancement of a plain multipart form (form[data-evidence-upload]) that works
 * without this script: with it, each file is posted on its own (same URL, same fields,
 * Accept: application/json) so each gets its own progress bar and its own answer. No inline
 * script, no dependency; bound by event delegation so it survives HTMX swaps of the page.
 */
(function () {
  "use strict";
  // HTMX re-runs this script when it swaps the page body in: bind the listeners once only.
  if (window.astraEvidenceUpload) { return; }
  window.astraEvidenceUpload = true;

  function formOf(el) { return el && el.closest ? el.closest("form[data-evidence-upload]") : null; }

  function row(list, file) {
    var li = document.createElement("li");
    li.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    var note = document.createElement("span");
    note.className = "upload-note";
    note.textContent = "Waiting…";
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(note);
    list.appendChild(li);
    return { li: li, bar: bar, note: note };
  }

  function send(form, file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData();
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === "file" || el.disabled) { return; }
        if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
        data.append(el.name, el.value);
      });
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          ui.bar.value = Math.round((e.loaded / e.total) * 100);
          ui.note.textContent = ui.bar.value + "%";
        }
      });
      xhr.addEventListener("load", function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        ui.bar.value = 100;
        if (answer && answer.saved && answer.saved.length) {
          var dup = answer.saved[0].duplicate ? " (same file as one already here: marked duplicate)" : "";
          ui.li.classList.add("upload-done");
          ui.note.textContent = "Uploaded" + dup;
          resolve(true);
        } else {
          var refused = answer && answer.refused && answer.refused[0];
          ui.li.classList.add("upload-refused");
          ui.note.textContent = "Not accepted: " + (refused ? refused.message : "the server did not answer (" + xhr.status + "). Try again.");
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        ui.li.classList.add("upload-refused");
        ui.note.textContent = "The connection failed. Check your network and try again.";
        resolve(false);
      });
      ui.note.textContent = "0%";
      xhr.send(data);
    });
  }

  // Show what arrived: re-fetch this page and swap in the element named by the form's
  // data-refresh-target (the dispute page body, or the client's "received so far" list),
  // keeping the progress list of this upload in view.
  function refresh(form, list) {
    var selector = form.getAttribute("data-refresh-target");
    var current = selector && document.querySelector(selector);
    if (!current) { return; }
    fetch(window.location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector(selector);
        if (!fresh) { return; }
        current.replaceWith(fresh);
        var slot = fresh.querySelector("form[data-evidence-upload] [data-progress]");
        if (slot) { slot.replaceWith(list); }
        if (window.htmx) { window.htmx.process(fresh); }
      });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-evidence-upload]")) { return; }
    if (!window.FormData || !window.XMLHttpRequest) { return; } // plain post
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files || !input.files.length) { return; }
    e.preventDefault();
    var list = form.querySelector("[data-progress]");
    var files = Array.prototype.slice.call(input.files);
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    var jobs = files.map(function (file) { return send(form, file, row(list, file)); });
    Promise.all(jobs).then(function (results) {
      input.value = "";
      if (button) { button.disabled = false; }
      form.dispatchEvent(new CustomEvent("evidence:uploaded", { bubbles: true, detail: { results: results } }));
      if (results.some(Boolean)) { refresh(form, list); }
    });
  });

  function zone(e) { return e.target && e.target.closest ? e.target.closest("[data-dropzone]") : null; }

  document.addEventListener("dragover", function (e) {
    var z = zone(e);
    if (!z) { return; }
    e.preventDefault();
    z.classList.add("dropzone-over");
  });
  document.addEventListener("dragleave", function (e) {
    var z = zone(e);
    if (z) { z.classList.remove("dropzone-over"); }
  });
  document.addEventListener("drop", function (e) {
    var z = zone(e);
    if (!z) { return; }
    e.preventDefault();
    z.classList.remove("dropzone-over");
    var input = z.querySelector("input[type=file]");
    if (input && e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  document.addEventListener("change", function (e) {
    var form = formOf(e.target);
    if (!form || e.target.type !== "file") { return; }
    var label = form.querySelector("[data-dropzone] label");
    var n = e.target.files.length;
    if (label && n) { label.textContent = n === 1 ? e.target.files[0].name : n + " files chosen"; }
  });
})();
