// Bulk selection on the findings list: select all, count, enable the batch button.
"use strict";
(function () {
  function wire(root) {
    const all = root.querySelector("#select-all");
    const button = root.querySelector("#bulk-batch");
    const count = root.querySelector("#bulk-count");
    if (!button) return;
    const boxes = () => Array.from(root.querySelectorAll("input.row-select"));
    const update = () => {
      const n = boxes().filter((b) => b.checked).length;
      button.disabled = n === 0;
      if (count) count.textContent = n ? String(n) : "";
    };
    if (all) all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); update(); });
    root.addEventListener("change", (e) => { if (e.target.classList && e.target.classList.contains("row-select")) update(); });
    update();
  }
  document.addEventListener("DOMContentLoaded", () => wire(document));
  document.addEventListener("htmx:afterSwap", (e) => wire(e.target));
})();
