/* Starts Swagger UI on the API docs page. A static file, not an inline script, so the site's
   Content-Security-Policy (script-src 'self') needs no exception. */
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  const { schemaUrl, csrfHeader, csrfToken } = root.dataset;

  // "Try it out" uses the signed-in session; Django wants the CSRF token on unsafe methods.
  const requestInterceptor = (request) => {
    if (!["GET", "HEAD", "OPTIONS", undefined].includes(request.method)) {
      request.headers[csrfHeader] = csrfToken;
    }
    return request;
  };

  // Swagger UI leaves a few controls without an accessible name; name them as they appear.
  const nameUnlabelledControls = () => {
    for (const textarea of root.querySelectorAll("textarea.body-param__text:not([aria-label])")) {
      textarea.setAttribute("aria-label", "Request body");
    }
    for (const button of document.querySelectorAll("button.close-modal:not([aria-label])")) {
      button.setAttribute("aria-label", "Close");
    }
  };
  new MutationObserver(nameUnlabelledControls).observe(document.body, { childList: true, subtree: true });

  window.ui = SwaggerUIBundle({
    url: schemaUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Deep links put an <a> inside each operation's toggle <button> (nested interactive controls).
    deepLinking: false,
    persistAuthorization: false,
    validatorUrl: null, // the public validator is off-site; there is no network to reach it anyway
    requestInterceptor,
  });
})();
