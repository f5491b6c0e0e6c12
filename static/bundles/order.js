// Drag to reorder the items of a bundle. The list sits in a form of hidden inputs in DOM
// order; after a drop the form is submitted (htmx posts it and swaps the panel). Without
// JavaScript the arrow buttons do the same. No inline script: the page has a CSP.
(function () {
  if (window.astraBundleOrder) return;
  window.astraBundleOrder = true;
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest("ol.bundle-order[data-sortable=on] > li");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.item);
  });
  document.addEventListener("dragover", (event) => {
    if (!dragged) return;
    const over = event.target.closest && event.target.closest("li");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", (event) => {
    if (dragged) event.preventDefault();
  });
  document.addEventListener("dragend", () => {
    if (!dragged) return;
    const form = dragged.closest("form");
    dragged.classList.remove("dragging");
    dragged = null;
    if (form) form.requestSubmit();
  });
})();
