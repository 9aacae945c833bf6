// Small behaviours shared by every page. No inline scripts anywhere (CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The language switch submits on change for pointer users; the button stays for keyboards.
  const lang = document.getElementById("lang-select");
  if (lang) lang.addEventListener("change", () => lang.form.submit());
});
