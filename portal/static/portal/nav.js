/* The portal's Menu button, on narrow screens: it shows and hides the navigation. Without
   JavaScript the navigation simply stays open (the stylesheet folds it only under .js-nav). */
(function () {
  "use strict";
  var nav = document.getElementById("portal-nav");
  if (!nav) return;
  var button = nav.querySelector(".nav-toggle");
  document.documentElement.classList.add("js-nav");
  function show(open) {
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { show(!nav.classList.contains("open")); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) { show(false); button.focus(); }
  });
})();
