// Types of what the loader (loader.js) and the banner (banner.js) read and lend each other,
// for `tsc --checkJs` (`cargo xtask test`, stage js-check; widget/js/tsconfig.json). The
// server's side is model/src/loader.rs (LoaderConfig, BannerView) and model/src/words.rs
// (BannerWords); a model test checks that every key the server sends is declared here.

/** A text in each of the notice's languages (`en` absent on a Thai-only notice). */
interface Texts {
  th: string;
  en?: string;
}

/** The site's configuration in the loader (model/src/loader.rs, `LoaderConfig`). */
interface LoaderConfig {
  site: string;
  /** The consent cookie's name, `yinyom_<site>`. */
  cookie: string;
  /** The current consent revision: a choice made under an older one is asked again. */
  revision: number;
  /** The current notice version (a form's receipt request names it). */
  version: string;
  validity_days: number;
  /** The notice's languages, Thai first. */
  languages: string[];
  categories: LoaderCategory[];
  widget_js: string;
  widget_wasm: string;
  banner_js: string;
  /** The forms module (forms.js), imported only by a page with a `data-yinyom-form`. */
  forms_js: string;
  /** The widget build id, which receipt requests carry. */
  build: string;
  /** Minors mode: the widget draws the banner with the age question. */
  minors?: boolean;
}

/** A cookie category (model/src/loader.rs, `LoaderCategory`). */
interface LoaderCategory {
  id: string;
  required: boolean;
  /** Google Consent Mode signals it grants. */
  gcm: string[];
  /** Its first-party cookies' names, cleared when it is denied; a trailing `*` matches a
   * prefix. Empty for a required category, which is never denied. */
  cookies: string[];
}

/** The banner's texts: `texts` of the banner script, and `GET /v1/sites/{site}/notice?view=banner`
 * (model/src/loader.rs, `BannerView`). */
interface BannerView {
  version: string;
  revision: number;
  title: Texts;
  summary: Texts;
  /** Ids of the purposes the banner asks. */
  purposes: string[];
  /** Ids of the consent purposes asked only on forms (never by the banner). */
  form_purposes?: string[];
  /** The optional categories Global Privacy Control keeps off. */
  sharing?: SharingCategory[];
}

interface SharingCategory {
  id: string;
  title: Texts;
}

/** The banner's fixed words in one language (model/src/words.rs, `BannerWords`). */
interface BannerWords {
  switch_lang: string;
  gpc_note: string;
  read_notice: string;
  reject_all: string;
  choose: string;
  accept_all: string;
  and: string;
  saved_reject_all: string;
  saved_accept_all: string;
}

/** A stored choice: the consent cookie read (model/src/cookie.rs, `ConsentCookie`), and
 * what `yinyom.consent()` returns. */
interface Consent {
  revision: number;
  /** Unix seconds. */
  at: number;
  /** The granted optional categories. */
  categories: string[];
  /** The receipt id, once the server acknowledged the choice. */
  receiptId: string | null;
}

/** The banner element the banner script returns. */
interface BannerElement extends HTMLElement {
  /** Shows the banner in language `lang`. */
  setLang(lang: string): void;
}

/** What the loader lends the banner script (`banner(host)`). */
interface BannerHost {
  /** The loader's configuration with the banner's texts over it. */
  config: LoaderConfig & BannerView;
  /** The language to show first. */
  lang: string;
  /** The script tag's `data-position` and `data-theme`. */
  position: string;
  theme: string;
  /** Whether the browser sends Global Privacy Control. */
  gpc: boolean;
  /** The shadow root the banner and the widget share. */
  root(): ShadowRoot;
  /** A new element with attributes and text, appended to `parent`. */
  el(parent: Node | null, tag: string, attrs?: Record<string, string>, text?: string): HTMLElement;
  /** The consent cookie's value for a choice. */
  cookie(consent: Consent): string;
  /** Stores the cookie, applies the choice and delivers the receipt request. */
  commit(cookie: string, request: string): void;
  /** Now, in unix seconds. */
  now(): number;
  uuid(): string;
  /** The visitor's pseudonymous id. */
  subject(): string;
  /** The visitor switched language. */
  setLang(lang: string): void;
  /** Opens the widget's settings on a tab (`choose` or `notice`). */
  open(tab: string): void;
  /** Starts fetching the widget (intent). */
  prefetch(): void;
}

/** What the loader lends the forms module (`forms(host)`). */
interface FormsHost {
  config: LoaderConfig;
  /** `/v1/sites/{site}` on the consent server. */
  api: string;
  /** The visitor's language now. */
  lang(): string;
  uuid(): string;
  /** The visitor's pseudonymous id (the same one the banner's receipts carry). */
  subject(): string;
  /** Keeps a receipt request in the loader's queue: delivered on a later page view. */
  queue(request: string): void;
}

/** The forms module (forms.js). */
interface FormsModule {
  /** Starts: checks the page's forms (and those added later), listens for their submits. */
  forms(host: FormsHost): void;
}

/** The mounted widget (widget/src/lib.rs, `Widget`). */
interface Widget {
  open(tab?: string): void;
  withdraw(): void;
  allow(category: string): void;
}

/** The widget's ES module (wasm-bindgen's glue). */
interface WidgetModule {
  default(init: { module_or_path: string }): Promise<unknown>;
  /** widget/src/host.rs, `Host`, is what it takes. */
  mount(host: object): Widget;
}

/** What the banner script (banner.js, served per site by routes/loader.rs with `texts`)
 * hands the loader: the `detail` of the `yinyom:banner` event on its script element. */
interface BannerScript {
  banner(host: BannerHost): BannerElement;
  /** The site's banner texts, filled in by the server. */
  texts: BannerView;
}

/** `window.yinyom` (docs/EMBEDDING.md, "JS API"). */
interface YinyomApi {
  __loaded: true;
  open(tab?: string): void;
  accepted(category: string): boolean;
  consent(): Consent | null;
  on(event: string, listener: (consent: Consent | null) => void): void;
  withdraw(): void;
}

interface Navigator {
  globalPrivacyControl?: boolean;
}

interface Window {
  /** The API, or the calls queued before the loader ran. */
  yinyom?: YinyomApi | unknown[][];
  dataLayer?: unknown[];
}

/** Filled by the server (routes/loader.rs) when it serves the loader. */
declare const __YINYOM_CONFIG__: LoaderConfig;
/** Filled by the server (routes/loader.rs) when it serves the banner. */
declare const __YINYOM_TEXTS__: BannerView;
/** Filled by `cargo xtask dist`: banner.css. */
declare const __YINYOM_CSS__: string;
/** Filled by `cargo xtask dist`: the banner's words, by language code. */
declare const __YINYOM_WORDS__: Record<string, BannerWords>;
