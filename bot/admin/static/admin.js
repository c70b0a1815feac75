// Mandatbot admin: small progressive enhancements (everything works without JavaScript).
document.addEventListener("DOMContentLoaded", function () {
  // The answer preview: submit in the background and show the result next to the form.
  document.querySelectorAll("form.preview-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var target = document.getElementById(form.dataset.target);
      if (!target || !window.fetch) { return; }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      target.innerHTML = '<p class="muted">Henter svar …</p>';
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: {"X-Requested-With": "fetch"},
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        target.innerHTML = html;
      }).catch(function (error) {
        target.innerHTML = '<p class="flash error">Forhåndsvisningen mislykkedes (' + error.message + '). Prøv igen.</p>';
      }).finally(function () {
        if (button) { button.disabled = false; }
      });
    });
  });
  // Ask before destructive actions.
  document.querySelectorAll("button.danger").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm("Er du sikker?")) { event.preventDefault(); }
    });
  });
});
