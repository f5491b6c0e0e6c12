// Behaviour the pages need beyond htmx, kept out of the HTML so the Content-Security-Policy
// allows no inline script and no eval.
(function () {
  "use strict";
  // A "select every row" checkbox ticks or clears the row boxes of its table.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var table = box.closest("table");
    if (!table) return;
    table.querySelectorAll("input[name=" + box.dataset.selectAll + "]").forEach(function (row) {
      row.checked = box.checked;
    });
  });
  // A filter form marked data-autosubmit applies its filters as soon as one changes.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit")) form.requestSubmit();
  });
})();
