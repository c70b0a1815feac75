// Mandatbot admin: small progressive enhancements (everything works without JavaScript).
(function () {
  // Answers are shown with the chat widget's own card code (mandat-widget.js in cards mode).
  function renderCards(root) {
    if (!window.MandatbotCards) { return; }
    root.querySelectorAll("[data-mandat-message]").forEach(function (host) {
      if (host.dataset.rendered) { return; }
      try {
        window.MandatbotCards.render(host, JSON.parse(host.dataset.mandatMessage));
        host.dataset.rendered = "true";
      } catch (error) {
        // The plain text stays visible.
      }
    });
  }

  // POST in the background and show the returned fragment (a 400 fragment explains what to fix).
  function fetchInto(url, body, target, button) {
    if (button) { button.disabled = true; }
    target.innerHTML = '<p class="muted">Henter svar …</p>';
    return fetch(url, {
      method: "POST",
      body: body,
      headers: {"X-Requested-With": "fetch"},
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok && response.status !== 400) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      target.innerHTML = html;
      renderCards(target);
    }).catch(function (error) {
      target.innerHTML = '<p class="flash error">Forhåndsvisningen mislykkedes (' + error.message + '). Prøv igen.</p>';
    }).finally(function () {
      if (button) { button.disabled = false; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderCards(document);
    // The answer preview of the saved catalogue.
    document.querySelectorAll("form.preview-form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var target = document.getElementById(form.dataset.target);
        if (!target || !window.fetch) { return; }
        event.preventDefault();
        fetchInto(form.action, new FormData(form), target, form.querySelector("button[type=submit]"));
      });
    });
    // "Forhåndsvis svar" on the entry form: the unsaved form's values plus the test question.
    document.querySelectorAll("button.draft-preview").forEach(function (button) {
      var form = button.form;
      var target = document.getElementById(button.dataset.target);
      if (!form || !target) { return; }
      button.addEventListener("click", function (event) {
        if (!window.fetch) { return; }
        event.preventDefault();
        fetchInto(button.formAction, new FormData(form), target, button);
      });
      // Enter in the test question previews; it must never save the entry.
      Array.prototype.forEach.call(form.elements, function (input) {
        if (input.name !== "preview_question") { return; }
        input.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); button.click(); }
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
})();
