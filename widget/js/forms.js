// @ts-check
// Yinyom forms: consent on an agency's own forms (registrations, applications,
// subscriptions). The loader (widget/js/loader.js, `formsModule`) imports this ES module
// only on a page that has a `<form data-yinyom-form="NAME">` (now or later), so a page
// without one never downloads it; `cargo xtask dist` minifies it beside the banner.
//
// Markup: `<input type="checkbox" data-yinyom-purpose="ID">` inside the form, one per
// consent purpose the form asks (ID: a purpose of the site file with legal basis
// `consent`). A box must never be ticked in the markup: a pre-ticked box is unticked and
// reported with console.error (PDPA s.19: consent is an act of the person). A box whose ID
// is not a consent purpose is reported the same way and never sent: the module reads the
// consent purposes from `notice?view=banner` (kept out of the loader, which every page
// view downloads); the notice version comes with the loader's configuration, so a request
// can be made even when the server is unreachable.
//
// On submit (a listener on document, in the capture phase: before the page's own
// handlers, and for forms added later too) the event is stopped and one receipt request (method `form`, `context` = the form's name, a decision
// for each consent purpose of the form: unticked = refused, no cookie category, the
// visitor's usual subject id) is posted to the consent server. Answered within 3 s: the
// form gets hidden fields `yinyom_receipt` (receipt id) and `yinyom_jws` (the signed
// receipt). Not answered (server down, slow, 5xx): the form gets `yinyom_request` (the
// request JSON), for the agency's backend to forward to `POST …/receipts` (idempotent on
// its request_id), and the loader also keeps it and retries on the next page view. Then
// the form is submitted again (requestSubmit, with the same submit button): the page's
// own handlers see one submit event, with the hidden fields in the form.
//
// A form may name one of its fields as the agency's own reference for the person
// (`<form data-yinyom-form="register" data-yinyom-reference="tax_id">`): its value
// (trimmed, at most MAX_REFERENCE characters) goes with the request as `reference`, so the
// agency's back-office can ask the consent by it (`POST …/consent/lookup`). The server
// keeps only a keyed hash of it, never the value. The copy the loader keeps for a retry
// leaves it out (no personal id in the browser's storage); the `yinyom_request` field the
// backend gets has it.

/** How long a form waits for the consent server, in milliseconds. */
const WAIT_MS = 3000;

/** Longest reference sent (the server's limit, model/src/receipt.rs MAX_REFERENCE). */
const MAX_REFERENCE = 128;

/** The hidden fields this module adds. */
const FIELDS = ["yinyom_receipt", "yinyom_jws", "yinyom_request"];

/**
 * Starts consent on forms with what the loader lends: checks the page's forms now and
 * whenever the page changes, and listens for their submits.
 * @param {FormsHost} host
 */
export function forms(host) {
  /** @type {string[] | null} the site's consent purposes (`notice?view=banner`), once known */
  let consent = null;
  /** @type {WeakSet<Element>} purpose boxes whose markup tick was looked at */
  const looked = new WeakSet();
  /** @type {WeakSet<Element>} purpose boxes whose purpose was checked (once known) */
  const checked = new WeakSet();

  /** The box's purpose id when it may be sent: a checkbox for a consent purpose (while
   * the purposes are not known, e.g. the server is unreachable, any checkbox's). */
  function purposeOf(/** @type {HTMLInputElement} */ box) {
    const id = box.getAttribute("data-yinyom-purpose") || "";
    return box.type == "checkbox" && (!consent || consent.indexOf(id) >= 0) ? id : null;
  }

  function scan() {
    document.querySelectorAll("form[data-yinyom-form] input[data-yinyom-purpose]").forEach((e) => {
      const box = /** @type {HTMLInputElement} */ (e);
      const id = box.getAttribute("data-yinyom-purpose");
      const form = box.form && box.form.getAttribute("data-yinyom-form");
      if (!looked.has(box)) {
        looked.add(box);
        if (box.defaultChecked) {
          box.defaultChecked = box.checked = false;
          console.error("yinyom: form \"" + form + "\": the box for \"" + id
            + "\" was ticked in the page; consent must be given by the visitor, so it is unticked");
        }
      }
      if (consent && !checked.has(box)) {
        checked.add(box);
        if (!purposeOf(box)) {
          console.error("yinyom: form \"" + form + "\": data-yinyom-purpose=\"" + id
            + "\" is not a checkbox for a consent purpose of site " + host.config.site
            + " (consent purposes: " + consent.join(", ") + "); it is not sent");
        }
      }
    });
  }

  /** Sets the hidden field `name` of `form` to `value`. */
  function field(/** @type {HTMLFormElement} */ form, /** @type {string} */ name, /** @type {string} */ value) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  /** Submits `form` again, past the loader's submit listener. */
  function send(/** @type {HTMLFormElement} */ form, /** @type {HTMLElement | null} */ submitter) {
    form.setAttribute("data-yinyom-sending", "");
    try {
      form.requestSubmit(submitter && /** @type {HTMLButtonElement} */ (submitter).form == form ? submitter : null);
    } finally {
      form.removeAttribute("data-yinyom-sending");
    }
  }

  /** The value of the field the form names in `data-yinyom-reference`, trimmed; null
   * when the form names none, or the field is missing, empty or too long (reported). */
  function referenceOf(/** @type {HTMLFormElement} */ form, /** @type {string} */ name) {
    const field = form.getAttribute("data-yinyom-reference");
    if (!field) return null;
    const input = /** @type {HTMLInputElement | RadioNodeList | null} */ (form.elements.namedItem(field));
    const value = input && typeof input.value == "string" ? input.value.trim() : "";
    if (!input) {
      console.error("yinyom: form \"" + name + "\": data-yinyom-reference=\"" + field
        + "\" names no field of the form; no reference is sent");
    } else if ([...value].length > MAX_REFERENCE) {
      console.error("yinyom: form \"" + name + "\": the reference is longer than "
        + MAX_REFERENCE + " characters; it is not sent");
      return null;
    }
    return value || null;
  }

  function submit(/** @type {HTMLFormElement} */ form, /** @type {HTMLElement | null} */ submitter) {
    scan();
    for (const name of FIELDS) {
      form.querySelectorAll("input[type=hidden][name=" + name + "]").forEach((old) => old.remove());
    }
    /** @type {Record<string, boolean>} */
    const purposes = {};
    let asked = false;
    form.querySelectorAll("input[data-yinyom-purpose]").forEach((e) => {
      const box = /** @type {HTMLInputElement} */ (e);
      const id = purposeOf(box);
      if (id) {
        purposes[id] = purposes[id] || box.checked;
        asked = true;
      }
    });
    const name = form.getAttribute("data-yinyom-form") || "";
    if (!asked) {
      console.error("yinyom: form \"" + name + "\" asks no consent purpose; no receipt is made");
      return send(form, submitter);
    }
    // Minors mode (PDPA s.20): a grant carries the age band the form asks (radios or a
    // select marked data-yinyom-age: under_10, 10_19, 20_plus) and who consents (a
    // data-yinyom-guardian checkbox ticked: a parent or guardian).
    const age = host.config.minors && form.querySelector("[data-yinyom-age]:checked, select[data-yinyom-age]");
    const band = age ? /** @type {HTMLInputElement} */ (age).value : "";
    const guardian = form.querySelector("input[data-yinyom-guardian]:checked");
    const reference = referenceOf(form, name);
    /** @type {Record<string, unknown>} */
    const body = {
      request_id: host.uuid(),
      subject_id: host.subject(),
      notice_version: host.config.version,
      consent_revision: host.config.revision,
      method: "form",
      context: name,
      lang: host.lang(),
      categories: {},
      purposes,
      gpc: navigator.globalPrivacyControl === true,
      age_band: band || undefined,
      consent_by: band ? (guardian ? "guardian" : "subject") : undefined,
      page_path: location.pathname,
      widget: host.config.build,
    };
    const kept = JSON.stringify(body);
    if (reference) body.reference = reference;
    const request = JSON.stringify(body);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), WAIT_MS);
    fetch(host.api + "/receipts", {
      method: "POST",
      body: request,
      headers: { "content-type": "application/json" },
      credentials: "omit",
      signal: abort.signal,
    }).then((r) => {
      if (r.status >= 500 || r.status == 429) throw r.status;
      return r.json().then((answer) => {
        if (!r.ok) {
          // Refused (4xx): the page or the site file is wrong; resending will not help.
          console.error("yinyom: form \"" + name + "\": the consent server refused the receipt", answer);
          return;
        }
        field(form, "yinyom_receipt", answer.receipt.receipt_id);
        field(form, "yinyom_jws", answer.jws);
      });
    }).catch(() => {
      // Unreachable, slow or failing: the backend forwards the request, and this browser
      // sends it again on its next page view (the same request_id: one receipt).
      field(form, "yinyom_request", request);
      host.queue(kept);
    }).finally(() => {
      clearTimeout(timer);
      send(form, submitter);
    });
  }

  document.addEventListener("submit", (e) => {
    const form = /** @type {HTMLFormElement} */ (e.target);
    if (!form.hasAttribute("data-yinyom-form") || form.hasAttribute("data-yinyom-sending")) return;
    // Held until the consent is recorded (at most WAIT_MS); the page's own handlers see
    // the submit send() makes then.
    e.preventDefault();
    e.stopImmediatePropagation();
    submit(form, e.submitter);
  }, true);
  scan();
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  fetch(host.api + "/notice?view=banner", { credentials: "omit" })
    .then((r) => (r.ok ? r.json() : null))
    .then((/** @type {BannerView | null} */ view) => {
      if (view) {
        consent = view.purposes.concat(view.form_purposes || []);
        scan();
      }
    }, () => {});
}
