/* Clientside callbacks, served as a file so the Content-Security-Policy needs no inline scripts for them. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  smelt: {
    toggleTheme: function (clicks, theme) {
      return theme === "dark" ? "light" : "dark";
    },
    applyTheme: function (theme) {
      var dark = theme === "dark";
      document.documentElement.dataset.theme = dark ? "dark" : "light";
      return dark ? "Light theme" : "Dark theme";
    },
  },
});

/* Apply the stored theme before the first paint, so a dark-theme user sees no light flash. */
(function () {
  try {
    var stored = JSON.parse(window.localStorage.getItem("theme"));
    if (stored === "dark") {
      document.documentElement.dataset.theme = "dark";
    }
  } catch (e) {
    /* no stored theme */
  }
})();
